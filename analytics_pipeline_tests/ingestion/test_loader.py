"""The loader against a real PostgreSQL: exactly once, every line accounted for, atomic."""

import gzip
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from analytics_pipeline.delivery.prefixes import delivery_hour_of
from analytics_pipeline.ingestion.batch import ingest_all, objects_delivered_between
from analytics_pipeline.ingestion.contract import EventValidator
from analytics_pipeline.ingestion.loader import ObjectLoader
from analytics_pipeline.storage.object_store import LocalDirectoryStore, StoredObject
from analytics_pipeline.warehouse.database import connect

NOW = datetime(2026, 9, 14, 11, tzinfo=UTC)  # the validator's clock
HOUR = NOW - timedelta(days=3)


def event(request_id, *, org="org-a", minutes=5, status=200, tokens=100, **extra):
    body = {"timestamp": (HOUR + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z"),
            "customer_id": org, "request_id": request_id, "status_code": status,
            "duration_ms": 120.5, "tokens_input": tokens, "tokens_output": 10, "model_id": "m1", **extra}
    return orjson.dumps(body)


def hour_prefix(hour=HOUR):
    return f"{hour:%Y/%m/%d/%H}/"


@pytest.fixture
def store(tmp_path):
    return LocalDirectoryStore(tmp_path / "logs")


@pytest.fixture
def loader(warehouse_url):
    with connect(warehouse_url) as conn, connect(warehouse_url, autocommit=True) as ddl:
        yield ObjectLoader(conn, ddl, EventValidator(now=NOW), run_id="test-run")


def put(store, name, lines, *, gz=True, hour=HOUR):
    data = b"\n".join(lines) + b"\n"
    return store.write(hour_prefix(hour) + name, gzip.compress(data, mtime=0) if gz else data)


def table_counts(conn):
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608 (fixed names)
            for t in ("analytics_events", "analytics_event_keys", "analytics_quarantine", "analytics_ingested_objects")}


def test_counts_add_up_and_are_recorded(loader, store):
    obj = put(store, "a.jsonl.gz", [
        event("r1"), event("r2"), event("r1"),           # r1 repeated with the same content: duplicate
        event("r3", tokens=5), event("r3", tokens=6),    # r3 repeated with other content: conflicting_duplicate
        b"{not json", b"[1,2]", event("r4", status=700),
        b"", b"   ",                                      # blank lines are not events
    ])
    result = loader.ingest(store, obj)
    assert (result.status, result.format) == ("loaded", "json_lines")
    assert (result.lines_read, result.accepted, result.duplicates, result.quarantined) == (8, 3, 1, 4)
    assert result.quarantine_reasons == {"invalid_json": 1, "not_an_object": 1, "out_of_range": 1,
                                         "conflicting_duplicate": 1}
    conn = loader.conn
    ledger = conn.execute("SELECT lines_read, accepted, duplicates, quarantined, status, run_id, event_hours "
                          "FROM analytics_ingested_objects").fetchone()
    assert ledger[:6] == (8, 3, 1, 4, "loaded", "test-run")
    assert ledger[6] == [HOUR]
    reasons = dict(conn.execute("SELECT reason, count(*) FROM analytics_quarantine GROUP BY 1").fetchall())
    assert reasons == {"invalid_json": 1, "not_an_object": 1, "out_of_range": 1, "conflicting_duplicate": 1}
    raw, sha, line = conn.execute("SELECT raw_text, raw_sha256, line_number FROM analytics_quarantine "
                                  "WHERE reason = 'conflicting_duplicate'").fetchone()
    assert orjson.loads(raw)["tokens_input"] == 6 and len(sha) == 64 and line == 5
    stored = conn.execute("SELECT tokens_input FROM analytics_events WHERE request_id = 'r3'").fetchall()
    assert stored == [(5,)]  # the first version wins


def test_same_objects_three_times_give_the_same_rows(loader, store):
    put(store, "a.jsonl.gz", [event(f"r{i}") for i in range(50)])
    put(store, "b.jsonl.gz", [event(f"r{i}") for i in range(25, 75)] + [b"garbage"])
    before = None
    for attempt in range(3):
        summary = ingest_all(loader, store, objects_delivered_between(store, HOUR, HOUR + timedelta(hours=1)))
        counts = table_counts(loader.conn)
        if attempt == 0:
            assert (summary.objects_loaded, summary.accepted, summary.duplicates, summary.quarantined) == (2, 75, 25, 1)
            before = counts
        else:
            assert (summary.objects_loaded, summary.objects_skipped) == (0, 2)
        assert counts == before == {"analytics_events": 75, "analytics_event_keys": 75,
                                    "analytics_quarantine": 1, "analytics_ingested_objects": 2}


def test_overwritten_object_is_ingested_again(loader, store):
    first = put(store, "a.jsonl.gz", [event("r1"), event("r2")])
    assert loader.ingest(store, first).accepted == 2
    second = put(store, "a.jsonl.gz", [event("r1"), event("r2"), event("r3")])
    assert second.etag != first.etag
    result = loader.ingest(store, second)
    assert (result.status, result.accepted, result.duplicates) == ("loaded", 1, 2)
    assert loader.ingest(store, second).status == "skipped"


class ExplodingStore(LocalDirectoryStore):
    """Streams a few chunks, then fails like a dropped connection."""

    def __init__(self, root, fail_after_chunks):
        super().__init__(root)
        self.fail_after_chunks = fail_after_chunks

    def stream(self, key):
        for i, chunk in enumerate(super().stream(key)):
            if i >= self.fail_after_chunks:
                raise ConnectionResetError("connection reset by peer")
            yield chunk


def test_failure_mid_object_leaves_nothing_and_the_retry_counts_the_same(loader, store, tmp_path):
    lines = [event(f"r{i}", minutes=i % 60) for i in range(60_000)] + [b"bad line"]
    obj = put(store, "big.jsonl", lines, gz=False)
    assert obj.size > 3 * 1024 * 1024  # several read chunks
    exploding = ExplodingStore(store.root, fail_after_chunks=2)
    with pytest.raises(ConnectionResetError):
        loader.ingest(exploding, obj)
    assert table_counts(loader.conn) == {"analytics_events": 0, "analytics_event_keys": 0,
                                         "analytics_quarantine": 0, "analytics_ingested_objects": 0}
    result = loader.ingest(store, obj)
    assert (result.lines_read, result.accepted, result.quarantined) == (60_001, 60_000, 1)


def test_unknown_format_is_recorded_as_failed_without_stopping(loader, store):
    obj = store.write(hour_prefix() + "x.bin", b"\x00\x01\x02 definitely not logs")
    result = loader.ingest(store, obj)
    assert result.status == "failed" and result.failure_reason
    assert result.lines_read == 0
    row = loader.conn.execute("SELECT status, failure_reason FROM analytics_ingested_objects").fetchone()
    assert row[0] == "failed" and row[1] == result.failure_reason
    assert loader.ingest(store, obj).status == "skipped"


def test_late_events_are_stored_by_event_time_and_reported(loader, store):
    later = HOUR + timedelta(hours=2)
    obj = put(store, "late.jsonl.gz", [event("late-1", minutes=5), event("on-time", minutes=125)], hour=later)
    result = loader.ingest(store, obj)
    assert result.delivery_hour == later
    assert result.late_events == 1
    assert result.event_hours == [HOUR, later]
    days = loader.conn.execute("SELECT tableoid::regclass::text FROM analytics_events").fetchall()
    assert all(d[0].startswith("analytics_events_p") for d in days)


def test_delivery_hour_comes_from_the_key_or_else_last_modified():
    modified = datetime(2026, 5, 6, 7, 45, tzinfo=UTC)
    assert delivery_hour_of(StoredObject("2026/02/03/04/x.gz", 1, "e", modified)) == datetime(2026, 2, 3, 4, tzinfo=UTC)
    assert delivery_hour_of(StoredObject("prefix/2026/02/03/04/x", 1, "e", modified)).hour == 4
    assert delivery_hour_of(StoredObject("uploads/x.gz", 1, "e", modified)) == datetime(2026, 5, 6, 7, tzinfo=UTC)
    assert delivery_hour_of(StoredObject("2026/13/40/99/x.gz", 1, "e", modified)) == datetime(2026, 5, 6, 7, tzinfo=UTC)


def test_end_users_and_error_types_are_stored_in_their_columns(loader, store):
    obj = put(store, "users.jsonl.gz", [
        event("r1", user_id="user-ü1"),
        event("r2", status=429, error_type="rate_limited"),
        event("r3", error_type="timeout"),  # an error type on a success is stored, not quarantined
        event("r4", user_id="u" * 257),  # longer than the contract's 256 characters
        event("r5"),
    ])
    result = loader.ingest(store, obj)
    assert (result.accepted, result.quarantine_reasons) == (4, {"out_of_range": 1})
    stored = loader.conn.execute("SELECT request_id, user_id, error_type, attributes FROM analytics_events "
                                 "ORDER BY request_id").fetchall()
    assert stored == [("r1", "user-ü1", None, None), ("r2", None, "rate_limited", None),
                      ("r3", None, "timeout", None), ("r5", None, None, None)]
