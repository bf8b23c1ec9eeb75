"""Exactly-once loading of CI run files into ``analytics_ci_runs``.

Each file is one run, loaded in one transaction: a row in the shared ingest ledger
(``analytics_ingested_objects``, source ``build_metrics``, unique on key + etag), then the
run claimed by its ``run_id`` or the file quarantined (``analytics_quarantine`` with the
object key, reason, detail and capped raw text), then the ledger row's counts. A crash rolls
all of it back; the ledger makes a retry skip what already committed, and an overwritten
file (new etag) is read again: equal content is a duplicate, other content a
``conflicting_duplicate``. Per file, ``lines_read = 1 = accepted + duplicates + quarantined``.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

import psycopg

from analytics_pipeline.build_metrics.contract import MAX_FILE_BYTES, CiRun, RunFileValidator
from analytics_pipeline.delivery.prefixes import day_prefixes
from analytics_pipeline.storage.object_store import InvalidKeyError, ObjectStore, StoredObject, check_key
from analytics_pipeline.warehouse.sql import fetch_row, load_sql

BUILD_METRICS_SOURCE = "build_metrics"
METRICS_PREFIX = "metrics/"
RUN_FILE_SUFFIX = ".json"
RAW_TEXT_CAP = 4096
_DAY_IN_KEY = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/[^/]+$")


def file_date_of(obj: StoredObject) -> date:
    """The day of a run file: ``YYYY/MM/DD/`` in its key, else the UTC day it was last modified."""
    match = _DAY_IN_KEY.search(obj.key)
    if match:
        try:
            return date(*map(int, match.groups()))
        except ValueError:
            pass  # not a real date: fall back to when the file arrived
    return obj.last_modified.astimezone(UTC).date()


def is_run_file(obj: StoredObject) -> bool:
    """Run files are ``metrics/.../<run_id>.json`` with a key the object store accepts;
    anything else in the bucket is not ours to load."""
    if not (obj.key.startswith(METRICS_PREFIX) and obj.key.endswith(RUN_FILE_SUFFIX)):
        return False
    try:
        check_key(obj.key)
    except InvalidKeyError:
        return False
    return True


def metrics_day_prefixes(start: datetime, end: datetime) -> Iterator[str]:
    """``metrics/YYYY/MM/DD/`` for each UTC day overlapping ``[start, end)``."""
    for prefix in day_prefixes(start, end):
        yield METRICS_PREFIX + prefix


def run_files_between(store: ObjectStore, start: datetime, end: datetime) -> Iterator[StoredObject]:
    """Run files whose key date lies in ``[start, end)``, one date-bounded listing per day."""
    for prefix in metrics_day_prefixes(start, end):
        for obj in store.list(prefix):
            if is_run_file(obj):
                yield obj


@dataclass
class RunFileResult:
    """What happened to one file: ``status`` loaded or skipped (already in the ledger);
    ``outcome`` accepted, duplicate or quarantined when loaded."""

    object_key: str
    etag: str
    status: str
    file_date: date
    outcome: str | None = None
    reason: str | None = None
    detail: str | None = None
    run: CiRun | None = None


@dataclass
class RunFileSummary:
    """Totals over the files of one run of the loader."""

    files_loaded: int = 0
    files_skipped: int = 0
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    quarantine_reasons: Counter = field(default_factory=Counter)
    file_dates: set[date] = field(default_factory=set)
    services: set[str] = field(default_factory=set)
    newest_finished_at: datetime | None = None

    def add(self, result: RunFileResult) -> None:
        if result.status == "skipped":
            self.files_skipped += 1
            return
        self.files_loaded += 1
        self.file_dates.add(result.file_date)
        if result.outcome == "accepted":
            self.accepted += 1
            self.services.add(result.run.service)
            finished = result.run.finished_at
            if self.newest_finished_at is None or finished > self.newest_finished_at:
                self.newest_finished_at = finished
        elif result.outcome == "duplicate":
            self.duplicates += 1
        else:
            self.quarantined += 1
            self.quarantine_reasons[result.reason] += 1


def _read_capped(store: ObjectStore, key: str) -> tuple[bytes, str, int]:
    """The file's first ``MAX_FILE_BYTES + 1`` bytes (enough to reject a larger one), with the
    SHA-256 and size of the whole file."""
    digest = hashlib.sha256()
    kept = bytearray()
    size = 0
    for chunk in store.stream(key):
        digest.update(chunk)
        size += len(chunk)
        if len(kept) <= MAX_FILE_BYTES:
            kept += chunk[: MAX_FILE_BYTES + 1 - len(kept)]
    return bytes(kept), digest.hexdigest(), size


class RunFileLoader:
    """Loads run files into the warehouse on one connection; ``validator`` holds the clock."""

    def __init__(self, conn: psycopg.Connection, validator: RunFileValidator | None = None,
                 run_id: str | None = None):
        self.conn = conn
        self.validator = validator or RunFileValidator()
        self.run_id = run_id

    def already_ingested(self, obj: StoredObject) -> bool:
        row = self.conn.execute(
            load_sql("ingestion/find_ingested_object"),
            {"source": BUILD_METRICS_SOURCE, "object_key": obj.key, "etag": obj.etag},
        ).fetchone()
        self.conn.commit()
        return row is not None

    def ingest(self, store: ObjectStore, obj: StoredObject) -> RunFileResult:
        """Load ``obj`` exactly once; a second call (same key and etag) returns status ``skipped``."""
        file_date = file_date_of(obj)
        if self.already_ingested(obj):
            return RunFileResult(obj.key, obj.etag, "skipped", file_date)
        try:
            with self.conn.transaction():
                return self._ingest_in_transaction(store, obj, file_date)
        except psycopg.errors.UniqueViolation:
            # Another run committed the same key and etag while we were loading it.
            return RunFileResult(obj.key, obj.etag, "skipped", file_date)

    def _ingest_in_transaction(self, store: ObjectStore, obj: StoredObject, file_date: date) -> RunFileResult:
        result = RunFileResult(obj.key, obj.etag, "loaded", file_date)
        object_id = self.conn.execute(load_sql("ingestion/open_ledger_entry"), {
            "source": BUILD_METRICS_SOURCE, "object_key": obj.key, "etag": obj.etag, "size_bytes": obj.size,
            "last_modified": obj.last_modified, "delivery_hour": datetime.combine(file_date, time(), UTC),
            "run_id": self.run_id,
        }).fetchone()[0]

        data, sha256, size = _read_capped(store, obj.key)
        run, reason, detail = self.validator.validate(data)
        if run is not None:
            claimed = self.conn.execute(load_sql("build_metrics/insert_ci_run"),
                                        run.row(file_date=file_date, object_id=object_id)).fetchone()
            if claimed is not None:
                result.outcome, result.run = "accepted", run
            else:
                first_hash, first_key = self.conn.execute(load_sql("build_metrics/find_ci_run"),
                                                          {"run_id": run.run_id}).fetchone()
                if first_hash == run.content_hash:
                    result.outcome = "duplicate"
                else:
                    reason = "conflicting_duplicate"
                    detail = f"run_id {run.run_id} was first loaded from {first_key} with different content"
        if reason is not None:
            result.outcome, result.reason, result.detail = "quarantined", reason, detail
            self.conn.execute(load_sql("build_metrics/quarantine_run_file"), {
                "object_id": object_id, "object_key": obj.key, "reason": reason, "detail": detail,
                "raw_text": data[:RAW_TEXT_CAP].decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
                "raw_sha256": sha256, "raw_size_bytes": size,
            })

        self.conn.execute(load_sql("ingestion/close_ledger_entry"), {
            "object_id": object_id, "status": "loaded", "format": "json", "failure_reason": None, "damage": None,
            "lines_read": 1, "accepted": int(result.outcome == "accepted"),
            "duplicates": int(result.outcome == "duplicate"), "quarantined": int(result.outcome == "quarantined"),
            "late_events": 0, "min_event_time": run.started_at if run else None,
            "max_event_time": run.finished_at if run else None, "event_hours": [],
        })
        return result


@dataclass(frozen=True)
class RunFileTotals:
    """What the warehouse holds for the run files of some days (for summaries such as the demo's)."""

    files: int
    accepted: int
    duplicates: int
    quarantined: int
    runs: int
    successful_runs: int
    services: int


def run_file_totals(conn: psycopg.Connection, first_day: date, end_day: date) -> RunFileTotals:
    """Ledger outcomes of the run files dated in ``[first_day, end_day)`` and the runs they hold."""
    return fetch_row(conn, "build_metrics/run_file_totals",  # an aggregate: always one row
                     {"source": BUILD_METRICS_SOURCE, "first_day": first_day, "end_day": end_day}, RunFileTotals)


def load_run_files(loader: RunFileLoader, store: ObjectStore, objects: Iterable[StoredObject],
                   on_result: Callable[[RunFileResult], None] | None = None,
                   known: set[tuple[str, str]] | None = None) -> RunFileSummary:
    """Load ``objects`` one transaction each and total the outcomes. ``known`` (key, etag)
    pairs, read from the ledger in one query beforehand, are skipped without a query each."""
    summary = RunFileSummary()
    for obj in objects:
        if known is not None and (obj.key, obj.etag) in known:
            result = RunFileResult(obj.key, obj.etag, "skipped", file_date_of(obj))
        else:
            result = loader.ingest(store, obj)
        summary.add(result)
        if on_result is not None:
            on_result(result)
    return summary
