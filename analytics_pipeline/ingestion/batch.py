"""Ingest every log object delivered in a time window (or an explicit list of keys).

Objects are laid out by delivery hour (``YYYY/MM/DD/HH/...``, as Kinesis Firehose writes
them); a window is discovered with one date-bounded listing per day, never a full listing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from analytics_pipeline.delivery.prefixes import day_prefixes, delivery_hour_of
from analytics_pipeline.ingestion.loader import LineCounts, ObjectIngestResult, ObjectLoader
from analytics_pipeline.storage.object_store import ObjectStore, StoredObject


def objects_delivered_between(store: ObjectStore, start: datetime, end: datetime) -> Iterator[StoredObject]:
    """Objects whose delivery hour (from their key) lies in ``[start, end)``, in key order."""
    for prefix in day_prefixes(start, end):
        for obj in store.list(prefix):
            if start <= delivery_hour_of(obj) < end:
                yield obj


@dataclass
class IngestSummary(LineCounts):
    """Totals over the objects of one run; ``lines_read`` always equals the three outcomes."""

    objects_loaded: int = 0
    objects_skipped: int = 0
    objects_failed: int = 0
    quarantine_reasons: Counter = field(default_factory=Counter)
    event_hours: set[datetime] = field(default_factory=set)
    newest_event_time: datetime | None = None
    failures: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)

    def add(self, result: ObjectIngestResult) -> None:
        if result.status == "skipped":
            self.objects_skipped += 1
            return
        if result.status == "failed":
            self.objects_failed += 1
            self.failures.append(f"{result.object_key}: {result.failure_reason}")
        else:
            self.objects_loaded += 1
        if result.damage:
            self.damaged.append(f"{result.object_key}: {result.damage}")
        self.lines_read += result.lines_read
        self.accepted += result.accepted
        self.duplicates += result.duplicates
        self.quarantined += result.quarantined
        self.late_events += result.late_events
        self.quarantine_reasons.update(result.quarantine_reasons)
        self.event_hours.update(result.event_hours)
        if result.max_event_time and (self.newest_event_time is None or result.max_event_time > self.newest_event_time):
            self.newest_event_time = result.max_event_time


def ingest_all(loader: ObjectLoader, store: ObjectStore, objects: Iterable[StoredObject],
               on_result=None) -> IngestSummary:
    """Ingest ``objects`` (in groups of objects, one transaction each: see :class:`ObjectLoader`)
    and total the outcomes; ``on_result`` sees each object's result once it has committed."""
    summary = IngestSummary()

    def collect(result: ObjectIngestResult) -> None:
        summary.add(result)
        if on_result is not None:
            on_result(result)

    loader.ingest_many(store, objects, collect)
    return summary
