"""Loading metric-stream objects, each exactly once, every line accounted for.

An object is claimed in the ledger (``analytics_metric_stream_objects``, unique per key and etag)
and its datapoints inserted in one transaction: a rerun, a re-evaluated sensor tick or a second
loader finds the claim and loads nothing. Each line ends as a datapoint, a duplicate (the same
minute, service and metric already stored) or rejected with its reason; the ledger's counts add
up (a CHECK holds it to that).
"""

from __future__ import annotations

import gzip
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg
from psycopg.types.json import Jsonb

from analytics_pipeline.storage.object_store import ObjectStore, StoredObject
from analytics_pipeline.system_health.metric_streams import Datapoint, parse_line
from analytics_pipeline.warehouse.sql import load_sql

SAMPLES_PER_REASON = 3
MAX_SAMPLE_CHARS = 500


def delivery_hour_of(obj: StoredObject) -> datetime:
    """The hour of Firehose's ``YYYY/MM/DD/HH/`` prefix (UTC), or the object's own hour without one."""
    parts = obj.key.split("/")
    try:
        return datetime(int(parts[-5]), int(parts[-4]), int(parts[-3]), int(parts[-2]), tzinfo=UTC)
    except (IndexError, ValueError):
        return obj.last_modified.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def known_objects_since(conn: psycopg.Connection, since: datetime) -> set[tuple[str, str]]:
    """``(key, etag)`` of the objects the ledger holds, delivered since ``since``."""
    return {(key, etag) for key, etag in conn.execute(load_sql("system_health/known_objects_since"),
                                                      {"since": since})}


@dataclass
class LoadedObject:
    """What loading one object did (``loaded`` False: it was loaded before, nothing done)."""

    key: str
    loaded: bool
    lines_read: int = 0
    datapoints: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejections: dict[str, int] = field(default_factory=dict)


def _lines(data: bytes) -> list[bytes]:
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    # Firehose concatenates records; Metric Streams end each with a newline.
    return [line for line in data.split(b"\n") if line.strip()]


def load_object(conn: psycopg.Connection, store: ObjectStore, obj: StoredObject, *, now: datetime) -> LoadedObject:
    """Load ``obj`` once (one transaction); ``loaded`` False when the ledger already has it."""
    lines = _lines(store.read(obj.key))
    points: list[Datapoint] = []
    reasons: Counter[str] = Counter()
    samples: dict[str, list[dict]] = {}
    for number, line in enumerate(lines, start=1):
        point, reason, detail = parse_line(line)
        if point is not None:
            points.append(point)
            continue
        reasons[reason] += 1
        kept = samples.setdefault(reason, [])
        if len(kept) < SAMPLES_PER_REASON:
            kept.append({"line": number, "detail": detail,
                         "raw": line[:MAX_SAMPLE_CHARS].decode("utf-8", errors="replace")})
    with conn.transaction():
        claimed = conn.execute(load_sql("system_health/claim_object"), {
            "object_key": obj.key, "etag": obj.etag, "delivery_hour": delivery_hour_of(obj), "now": now}).fetchone()
        if claimed is None:
            return LoadedObject(obj.key, loaded=False)
        object_id = claimed[0]
        columns = list(zip(*[(p.minute, p.namespace, p.service, p.metric_name, p.unit, p.sample_max, p.sample_min,
                              p.sample_sum, p.sample_count, p.account_id, p.region) for p in points], strict=True))
        names = ("minutes", "namespaces", "services", "metric_names", "units", "maxes", "mins", "sums", "counts",
                 "account_ids", "regions")
        inserted = 0
        if points:
            cursor = conn.execute(load_sql("system_health/insert_minutes"),
                                  {"object_id": object_id, **{n: list(c) for n, c in zip(names, columns, strict=True)}})
            inserted = cursor.rowcount
        result = LoadedObject(obj.key, True, len(lines), inserted, len(points) - inserted, sum(reasons.values()),
                              dict(reasons))
        conn.execute(load_sql("system_health/close_object"), {
            "object_id": object_id, "lines_read": result.lines_read, "datapoints": result.datapoints,
            "duplicates": result.duplicates, "rejected": result.rejected,
            "rejections": Jsonb({reason: {"lines": count, "samples": samples[reason]}
                                 for reason, count in reasons.items()})})
    return result
