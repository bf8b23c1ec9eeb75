"""The grouped, overlapped loader: same results as one object per transaction, atomic groups,
and no double counting when loaders race (real PostgreSQL, real threads and connections)."""

import gzip
import threading
import time
from datetime import UTC, datetime, timedelta
from hashlib import md5

import orjson
import pytest
from psycopg import sql

from analytics_pipeline.generator.usage_logs import generate_usage_logs
from analytics_pipeline.ingestion.batch import ingest_all
from analytics_pipeline.ingestion.contract import EventValidator
from analytics_pipeline.ingestion.loader import ObjectLoader, create_staging_tables, insert_new_events_sql
from analytics_pipeline.storage.object_store import LocalDirectoryStore
from analytics_pipeline.warehouse.database import connect, drop_database, with_database
from analytics_pipeline_tests.conftest import _clone_database

NOW = datetime(2026, 9, 14, 11, tzinfo=UTC)  # the validator's clock
HOUR = NOW - timedelta(days=3)

# Every column a load writes, with object ids replaced by keys (ids depend on load order).
SNAPSHOT = {
    "events": "SELECT e.event_time, e.organization_id, e.request_id, e.endpoint, e.method, e.status_code, "
              "e.duration_ms, e.tokens_consumed, e.tokens_input, e.tokens_output, e.model_id, e.event_type, "
              "e.agent_type, e.tool_name, e.queue_wait_ms, e.session_id, e.level, e.message, e.attributes, "
              "e.content_hash, o.object_key FROM analytics_events AS e JOIN analytics_ingested_objects AS o "
              "USING (object_id) ORDER BY e.organization_id, e.request_id",
    "keys": "SELECT k.event_key, k.organization_id, k.request_id, k.content_hash, k.event_time, o.object_key, "
            "k.line_number FROM analytics_event_keys AS k JOIN analytics_ingested_objects AS o USING (object_id) "
            "ORDER BY k.event_key",
    "quarantine": "SELECT object_key, line_number, reason, regexp_replace(detail, 'object [0-9]+', 'object N'), "
                  "raw_text, raw_sha256, raw_size_bytes FROM analytics_quarantine ORDER BY object_key, line_number",
    "ledger": "SELECT object_key, etag, status, format, lines_read, accepted, duplicates, quarantined, late_events, "
              "min_event_time, max_event_time, event_hours FROM analytics_ingested_objects ORDER BY object_key",
}


def snapshot(conn) -> dict:
    return {name: conn.execute(query).fetchall() for name, query in SNAPSHOT.items()}


def event(request_id, *, org="org-a", minutes=5, tokens=100, **extra) -> bytes:
    return orjson.dumps({"timestamp": (HOUR + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z"),
                         "customer_id": org, "request_id": request_id, "status_code": 200,
                         "tokens_input": tokens, "model_id": "m1", **extra})


def put(store, name, lines):
    return store.write(f"{HOUR:%Y/%m/%d/%H}/{name}", gzip.compress(b"\n".join(lines) + b"\n", mtime=0))


@pytest.fixture
def other_warehouse_url(pg_server_url, migrated_template):
    """A second fresh, migrated database, to load the same objects another way."""
    name = _clone_database(pg_server_url, migrated_template)
    yield with_database(pg_server_url, name)
    drop_database(pg_server_url, name)


@pytest.fixture
def store(tmp_path):
    return LocalDirectoryStore(tmp_path / "logs")


def load(url, store, objects, *, overlap, **loader_options):
    with connect(url) as conn, connect(url) as second, connect(url, autocommit=True) as ddl:
        loader = ObjectLoader(conn, ddl, EventValidator(now=NOW), second_conn=second if overlap else None,
                              **loader_options)
        summary = ingest_all(loader, store, objects)
        return summary, loader.timings, snapshot(conn)


def realistic_objects(store):
    """Generated objects with duplicates and malformed lines, plus a late re-delivery of 20 of
    the first objects' events, 14 of them with changed content (other status, unknown fields),
    two of those twice. Returns the generator's summary, the objects and the expected
    (extra duplicates, conflicting duplicates) of the re-delivery."""
    start = (NOW - timedelta(days=2)).date()
    generated = generate_usage_logs(lambda key, data: store.write(key, data), start=start, days=1, orgs=4, models=2,
                                    events_per_hour=60, seed=9, duplicate_rate=0.05, malformed_rate=0.03)
    validator = EventValidator(now=NOW)
    originals = {}
    for obj in list(store.list())[:10]:
        for line in gzip.decompress(store.read(obj.key)).splitlines():
            row, _reason, _detail = validator.validate(line)
            if row is not None:
                originals.setdefault(row[2], line)
    changed = []
    for i, line in enumerate(list(originals.values())[:20]):
        body = orjson.loads(line)
        if i % 2:
            body["status_code"] = 503
        if i % 3 == 0:
            body["deployment"] = {"region": "eu-west-1", "weights": [0.25, 1, None]}
        changed.append(orjson.dumps(body))
    store.write(f"{start:%Y/%m/%d}/23/redelivered.jsonl.gz", gzip.compress(b"\n".join(changed + changed[:2]) + b"\n"))
    conflicts = sum(1 for i in range(20) if i % 2 or i % 3 == 0) + 2
    return generated, list(store.list()), (22 - conflicts, conflicts)


def test_groups_and_overlap_give_the_same_rows_as_one_object_per_transaction(warehouse_url, other_warehouse_url,
                                                                             store):
    generated, objects, (extra_duplicates, conflicts) = realistic_objects(store)
    assert len(objects) > 40 and conflicts == 16
    one_by_one, timings_1, rows_1 = load(warehouse_url, store, objects, overlap=False, group_objects=1)
    grouped, timings_2, rows_2 = load(other_warehouse_url, store, objects, overlap=True, group_objects=7)

    assert (timings_1.groups, timings_2.groups) == (len(objects), -(-len(objects) // 7))
    assert rows_1 == rows_2
    for summary in (one_by_one, grouped):
        assert summary.accepted == generated.valid_events == len(rows_1["events"]) == len(rows_1["keys"])
        assert summary.lines_read == generated.lines_written + 22
        assert summary.lines_read == summary.accepted + summary.duplicates + summary.quarantined
        assert summary.duplicates == generated.duplicate_lines + extra_duplicates
        assert summary.quarantine_reasons["conflicting_duplicate"] == conflicts
        assert summary.quarantined == generated.malformed_lines + conflicts
    stored = [q for q in rows_2["quarantine"] if q[2] == "conflicting_duplicate"]
    assert len(stored) == conflicts
    for _key, _line, _reason, detail, raw_text, raw_sha256, raw_size in stored:
        assert "was first accepted from object N line" in detail
        assert raw_text.encode() != b"" and len(raw_sha256) == 64 and raw_size == len(raw_text.encode())


def test_stored_content_hash_and_attributes_are_those_of_the_contract(warehouse_url, store):
    body = {"timestamp": "2026-01-01T00:00:00Z", "request_id": "r1", "customer_id": "org-a", "status_code": 200,
            "zone": "b", "extra": {"nested": [1, 2.5, "x", None]}}
    body["timestamp"] = (HOUR + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    obj = put(store, "attrs.jsonl.gz", [orjson.dumps(body)])
    summary, _timings, rows = load(warehouse_url, store, [obj], overlap=True)
    assert summary.accepted == 1
    [stored] = rows["events"]
    assert stored[18] == {"extra": {"nested": [1, 2.5, "x", None]}, "zone": "b"}  # attributes, as jsonb
    assert stored[19] == md5(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


class ExplodingStore(LocalDirectoryStore):
    """Fails like a dropped connection while streaming one object."""

    def __init__(self, root, fail_key):
        super().__init__(root)
        self.fail_key = fail_key

    def stream(self, key):
        for chunk in super().stream(key):
            if key == self.fail_key:
                raise ConnectionResetError("connection reset by peer")
            yield chunk


def test_an_error_rolls_back_its_group_only_and_the_retry_loads_the_rest(warehouse_url, other_warehouse_url, store):
    objects = [put(store, f"{name}.jsonl.gz", [event(f"{name}{i}") for i in range(5)] + [event("shared")])
               for name in "abcdef"]
    exploding = ExplodingStore(store.root, fail_key=objects[4].key)  # e: in the third group of two
    with connect(warehouse_url) as conn, connect(warehouse_url) as second, \
            connect(warehouse_url, autocommit=True) as ddl:
        loader = ObjectLoader(conn, ddl, EventValidator(now=NOW), second_conn=second, group_objects=2)
        reported = []
        with pytest.raises(ConnectionResetError):
            loader.ingest_many(exploding, objects, reported.append)
        assert [r.object_key for r in reported] == [o.key for o in objects[:4]]
        ledger = conn.execute("SELECT object_key FROM analytics_ingested_objects ORDER BY 1").fetchall()
        assert [k for (k,) in ledger] == [o.key for o in objects[:4]]
        assert conn.execute("SELECT count(*) FROM analytics_events").fetchone()[0] == 4 * 5 + 1
        conn.commit()

        retry = ingest_all(loader, store, objects)
        assert (retry.objects_skipped, retry.objects_loaded, retry.accepted, retry.duplicates) == (4, 2, 10, 2)
        after_retry = snapshot(conn)
    _summary, _timings, clean = load(other_warehouse_url, store, objects, overlap=False)
    assert after_retry["events"] == clean["events"] and after_retry["ledger"] == clean["ledger"]


def test_the_same_object_twice_in_one_run_is_loaded_once(warehouse_url, store):
    obj = put(store, "a.jsonl.gz", [event("r1"), event("r2")])
    summary, _timings, rows = load(warehouse_url, store, [obj, obj], overlap=True)
    assert (summary.objects_loaded, summary.objects_skipped, summary.accepted) == (1, 1, 2)
    assert len(rows["ledger"]) == 1


def test_a_group_takes_its_ledger_rows_in_key_order_but_the_first_given_line_wins(warehouse_url, store):
    # Key order makes two loaders with overlapping groups wait rather than deadlock; which of two
    # lines with the same key wins still follows the order the objects were given in.
    objects = [put(store, f"{name}.jsonl.gz", [event(f"{name}-only"), event("shared", tokens=tokens)])
               for name, tokens in (("c", 3), ("b", 2), ("a", 1))]
    summary, timings, rows = load(warehouse_url, store, objects, overlap=True)
    assert timings.groups == 1
    with connect(warehouse_url) as conn:
        by_id = [key for (key,) in conn.execute("SELECT object_key FROM analytics_ingested_objects ORDER BY object_id")]
        winner = conn.execute("SELECT tokens_input FROM analytics_events WHERE request_id = 'shared'").fetchone()
    assert by_id == sorted(o.key for o in objects)
    assert winner == (3,)  # from c, the first object given
    assert summary.quarantine_reasons == {"conflicting_duplicate": 2}


def wait_until_waiting_on_a_lock(conn, timeout=20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()[0]:
            return
        time.sleep(0.05)
    raise AssertionError("the loader never waited on the concurrent claim")


def test_a_key_committed_by_a_concurrent_loader_falls_back_to_on_conflict(warehouse_url, store):
    obj = put(store, "a.jsonl.gz", [event("r1"), event("r2", tokens=7), event("r3")])
    with connect(warehouse_url) as rival, connect(warehouse_url, autocommit=True) as observer:
        # Another loader has claimed r2 (with other content) but not yet committed.
        rival.execute("INSERT INTO analytics_event_keys (event_key, organization_id, request_id, content_hash, "
                      "event_time, object_id, line_number) VALUES (analytics_event_key('org-a', 'r2'), 'org-a', "
                      "'r2', 'ffffffffffffffffffffffffffffffff', %s, 0, 1)", (HOUR,))
        outcome = {}

        def run():
            with connect(warehouse_url) as conn, connect(warehouse_url, autocommit=True) as ddl:
                loader = ObjectLoader(conn, ddl, EventValidator(now=NOW))
                outcome["result"] = loader.ingest(store, obj)
                outcome["fallbacks"] = loader.timings.claim_fallbacks

        thread = threading.Thread(target=run)
        thread.start()
        wait_until_waiting_on_a_lock(observer)  # the plain INSERT waits for the rival's r2
        rival.commit()
        thread.join(timeout=30)
        result = outcome["result"]
        assert outcome["fallbacks"] == 1
        assert (result.accepted, result.duplicates, result.quarantined) == (2, 0, 1)
        assert result.quarantine_reasons == {"conflicting_duplicate": 1}
        assert observer.execute("SELECT count(*) FROM analytics_events").fetchone()[0] == 2


def test_two_loaders_racing_over_the_same_objects_never_double_count(warehouse_url, store):
    # Ten objects whose request ids overlap their neighbours'; both loaders take all of them,
    # in opposite orders, each on two connections of its own.
    objects = [put(store, f"{n:02d}.jsonl.gz", [event(f"r{i}", minutes=i % 60) for i in range(n * 50, n * 50 + 80)])
               for n in range(10)]
    results: dict[str, list] = {}
    errors: list[BaseException] = []

    def run(name, order):
        try:
            with connect(warehouse_url) as conn, connect(warehouse_url) as second, \
                    connect(warehouse_url, autocommit=True) as ddl:
                loader = ObjectLoader(conn, ddl, EventValidator(now=NOW), second_conn=second, group_objects=3)
                results[name] = []
                loader.ingest_many(store, order, results[name].append)
        except BaseException as error:  # e.g. a deadlock: reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=("forward", objects)),
               threading.Thread(target=run, args=("backward", objects[::-1]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert all(len(results[name]) == len(objects) for name in ("forward", "backward"))
    loaded = [r for name in results for r in results[name] if r.status == "loaded"]
    assert sorted(r.object_key for r in loaded) == sorted(o.key for o in objects)  # each exactly once
    assert sum(r.accepted for r in loaded) == 9 * 50 + 80  # r0 .. r529, once each
    assert sum(r.duplicates for r in loaded) == 10 * 80 - 530
    with connect(warehouse_url) as conn:
        totals = conn.execute("SELECT (SELECT count(*) FROM analytics_events), "
                              "(SELECT count(DISTINCT request_id) FROM analytics_events), "
                              "(SELECT count(*) FROM analytics_event_keys), "
                              "(SELECT count(*) FROM analytics_ingested_objects "
                              " WHERE lines_read = accepted + duplicates + quarantined)").fetchone()
    assert totals == (530, 530, 530, 10)


def test_repeats_are_found_by_one_hashed_pass(warehouse_url):
    # Staging has no statistics; NOT EXISTS over the claimed lines was planned as a nested loop
    # (quadratic in the group's lines). Guard the plan shape of the claim statement.
    with connect(warehouse_url) as conn:
        create_staging_tables(conn)
        plan = "\n".join(row[0] for row in conn.execute(
            sql.SQL("EXPLAIN ") + insert_new_events_sql(on_conflict=False),
            {"valid_lines": 20_000, "object_ids": [1], "delivery_hours": [HOUR]}).fetchall())
    assert "hashed SubPlan" in plan, plan
