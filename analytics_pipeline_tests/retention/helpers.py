"""Raw events with every column, dedupe keys, ledger objects and snapshots, for retention tests."""

import json
import random
from datetime import UTC, date, datetime, timedelta

from analytics_pipeline.retention.raw_archive import ARCHIVE_SCHEMA

COLUMNS = tuple(ARCHIVE_SCHEMA.names)
# The tests' "now" (as_of, and the retention job's frozen clock): a 04:30 UTC schedule tick.
TODAY = datetime(2026, 11, 20, 4, 30, tzinfo=UTC)


def days_ago(days: int) -> date:
    return (TODAY - timedelta(days=days)).date()


def day_events(day: date, count: int, seed: int = 1, prefix: str = "r") -> list[dict]:
    """``count`` events of ``day`` with every kind of value: NULLs, unicode, jsonb, floats."""
    rng = random.Random(f"{day}-{seed}")
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    events = []
    for i in range(count):
        at = start + timedelta(milliseconds=rng.randrange(86_400_000))
        events.append({
            "event_time": at, "organization_id": rng.choice(["org-a", "org-b", "tenant_abc123"]),
            "request_id": f"{prefix}-{day:%Y%m%d}-{seed}-{i}", "endpoint": rng.choice(["/api/v1/agents", None]),
            "method": rng.choice(["POST", "GET", None]), "status_code": rng.choice([200, 201, 404, 503, None]),
            "duration_ms": rng.choice([145.0, 0.5, None]), "tokens_consumed": rng.choice([2500, None]),
            "tokens_input": rng.randrange(5000), "tokens_output": rng.choice([rng.randrange(3000), None]),
            "model_id": rng.choice(["m1", "m2", None]), "event_type": "request", "agent_type": None,
            "tool_name": rng.choice(["search", None]), "queue_wait_ms": rng.choice([1.25, None]),
            "session_id": f"s{rng.randrange(9)}", "level": "info",
            "message": rng.choice(["Agent created", "ünïcødé ✓", None]),
            "attributes": rng.choice([None, {"region": "eu", "n": [1, 2.5, {"x": None}]}]),
            "content_hash": f"{rng.getrandbits(128):032x}", "object_id": 1,
            "user_id": rng.choice(["user-1", "ü-ser 2", None]), "error_type": rng.choice(["rate_limited", None]),
        })
    return events


def insert_full_events(conn, events: list[dict]) -> None:
    """COPY events (all columns) into analytics_events, creating their partitions; commit."""
    for day in sorted({e["event_time"].date() for e in events}):
        conn.execute("SELECT analytics_ensure_event_partition(%s)", (day,))
    with conn.cursor().copy(f"COPY analytics_events ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for event in events:
            values = [event[c] for c in COLUMNS]
            values[COLUMNS.index("attributes")] = None if event["attributes"] is None else json.dumps(
                event["attributes"])
            copy.write_row(values)
    conn.commit()


def insert_event_keys(conn, events: list[dict]) -> None:
    conn.cursor().executemany(
        "INSERT INTO analytics_event_keys (event_key, organization_id, request_id, content_hash, event_time, "
        "object_id, line_number) VALUES (analytics_event_key(%(organization_id)s, %(request_id)s), "
        "%(organization_id)s, %(request_id)s, %(content_hash)s, %(event_time)s, 1, 1)", events)
    conn.commit()


def record_ingested_object(conn, key: str, events: list[dict]) -> None:
    """A ledger entry for an object that brought ``events`` (as ingestion writes it), ingested now."""
    times = [e["event_time"] for e in events]
    conn.execute(
        "INSERT INTO analytics_ingested_objects (object_key, etag, size_bytes, delivery_hour, status, lines_read, "
        "accepted, min_event_time, max_event_time) VALUES (%s, 'etag', 1, date_trunc('hour', now()), 'loaded', "
        "%s, %s, %s, %s)", (key, len(events), len(events), min(times), max(times)))
    conn.commit()


def database_rows(conn, day: date) -> list[tuple]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    columns = ", ".join(c if c != "attributes" else "attributes::text" for c in COLUMNS)
    return [tuple(row) for row in conn.execute(
        f"SELECT {columns} FROM analytics_events WHERE event_time >= %s AND event_time < %s "  # noqa: S608 - fixed names
        "ORDER BY event_time, organization_id, request_id", (start, start + timedelta(days=1)))]


def partition_days(conn) -> list[date]:
    rows = conn.execute(
        "SELECT relname FROM pg_inherits JOIN pg_class ON pg_class.oid = inhrelid "
        "WHERE inhparent = 'analytics_events'::regclass ORDER BY relname").fetchall()
    return [datetime.strptime(r[0][-8:], "%Y%m%d").date() for r in rows]


def warehouse_snapshot(conn) -> dict:
    """Everything retention may change in the warehouse, to prove a dry run changed nothing."""
    snapshot = {"partitions": partition_days(conn)}
    for table, order in (("analytics_events", "request_id"), ("analytics_event_keys", "event_key"),
                         ("analytics_hourly_rollups", "bucket_start, organization_id"),
                         ("analytics_daily_rollups", "bucket_start, organization_id"),
                         ("analytics_endpoint_daily_rollups", "bucket_start, organization_id"),
                         ("analytics_quarantine", "quarantine_id"), ("analytics_export_jobs", "job_id"),
                         ("analytics_raw_archives", "day")):
        snapshot[table] = conn.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()  # noqa: S608 - fixed
    return snapshot
