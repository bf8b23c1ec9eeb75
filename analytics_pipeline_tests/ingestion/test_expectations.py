"""The Great Expectations suite of raw_usage_events on a real PostgreSQL: clean hours pass,
every rule that the table allows to be broken fails on rows that break it."""

import logging
import math
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from analytics_pipeline.defs.ingestion.assets import raw_usage_events
from analytics_pipeline.defs.ingestion.checks import raw_events_meet_expectations
from analytics_pipeline.defs.shared import RANGE_END_TAG, RANGE_START_TAG
from analytics_pipeline.generator.usage_logs import generate_usage_logs
from analytics_pipeline.ingestion.batch import objects_delivered_between
from analytics_pipeline.ingestion.contract import EventValidator
from analytics_pipeline.ingestion.expectations import raw_event_expectations, validate_raw_events, window_query
from analytics_pipeline.ingestion.loader import ObjectLoader
from analytics_pipeline.ingestion.quality import check_delivery_window
from analytics_pipeline.storage.object_store import LocalDirectoryStore
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.resources import pipeline_resources

DAY = date(2026, 3, 2)
CLEAN_HOUR = datetime(2026, 3, 2, 14, tzinfo=UTC)
TAMPERED_HOUR = CLEAN_HOUR + timedelta(hours=1)
HOUR = timedelta(hours=1)


def test_the_window_query_renders_only_typed_values():
    query = window_query(CLEAN_HOUR, TAMPERED_HOUR, CLEAN_HOUR - HOUR, TAMPERED_HOUR)
    assert query.startswith("SELECT ")  # GX query assets must start with SELECT (the comments are gone)
    assert "o.delivery_hour >= '2026-03-02 14:00:00+00:00'::timestamptz" in query
    assert "o.source = 'usage_logs'" in query
    with pytest.raises(TypeError, match="timezone-aware"):
        window_query(CLEAN_HOUR.replace(tzinfo=None), TAMPERED_HOUR, CLEAN_HOUR, TAMPERED_HOUR)
    with pytest.raises(TypeError, match="events_to"):
        window_query(CLEAN_HOUR, TAMPERED_HOUR, CLEAN_HOUR, "2026-03-02' OR true --")
    with pytest.raises(ValueError, match="source"):
        window_query(CLEAN_HOUR, TAMPERED_HOUR, CLEAN_HOUR, TAMPERED_HOUR, source="x' OR 'a'='a")


def test_the_suite_states_the_contract():
    suite = raw_event_expectations(retention_days=30, future_tolerance=timedelta(hours=6))
    names = [e.name for e in suite]
    assert len(names) == len(set(names)) == 22
    window = next(e for e in suite if e.name == "event_time_within_contract_window")
    assert (window.kwargs["min_value"], window.kwargs["max_value"]) == (-30 * 86400, 7 * 3600)
    unique = next(e for e in suite if e.name == "request_id_unique_per_organization")
    assert (unique.gx_type, unique.kwargs["column_list"]) == ("ExpectCompoundColumnsToBeUnique",
                                                              ["organization_id", "request_id"])


@pytest.fixture
def store(warehouse_url, tmp_path):
    """Generated logs of DAY; the objects delivered at 14:00 and 15:00 loaded by the real loader."""
    store = LocalDirectoryStore(tmp_path / "logs")
    generate_usage_logs(lambda key, data: store.write(key, data), start=DAY, days=1, orgs=3, models=2,
                        events_per_hour=12, seed=4)
    with connect(warehouse_url) as conn, connect(warehouse_url, autocommit=True) as ddl:
        loader = ObjectLoader(conn, ddl, EventValidator(now=CLEAN_HOUR + timedelta(days=2)))
        for obj in objects_delivered_between(store, CLEAN_HOUR, TAMPERED_HOUR + HOUR):
            assert loader.ingest(store, obj).accepted > 0
    return store


def good(i: int, **changes) -> dict:
    row = {"event_time": TAMPERED_HOUR + timedelta(minutes=10), "organization_id": "org-tampered",
           "request_id": f"t-{i}", "status_code": 200, "duration_ms": 10.0, "queue_wait_ms": 1.0,
           "tokens_consumed": 2, "tokens_input": 1, "tokens_output": 1, "content_hash": "0" * 32, "attributes": None,
           "user_id": "u-1", "error_type": None}
    return {**row, **changes}


# Rows that each break the named rules (and no other), with how many rows break each rule.
BAD_ROWS = [
    good(1, organization_id=""), good(2, organization_id="bad org!"), good(3, organization_id="a" * 129),
    good(4, organization_id=None), good(5, request_id=None), good(6, request_id="   "), good(7, request_id=""),
    good(8, request_id="x" * 257), good(9, request_id="dup"), good(10, request_id="dup"),
    good(11, event_time=TAMPERED_HOUR + HOUR + timedelta(days=1, seconds=1)),  # past the allowed clock skew
    good(12, event_time=TAMPERED_HOUR - timedelta(days=401)),  # older than the retention
    good(13, event_time=TAMPERED_HOUR + timedelta(minutes=10, microseconds=500)),
    good(14, status_code=700), good(15, status_code=99),
    good(16, duration_ms=-1.0), good(17, duration_ms=math.nan), good(18, duration_ms=math.inf),
    good(19, queue_wait_ms=-0.5), good(20, tokens_consumed=-1), good(21, tokens_input=-1),
    good(22, tokens_output=-1), good(23, content_hash=None), good(24, content_hash="X" * 32),
    good(25, content_hash="a" * 31), good(26, attributes="[1, 2]"),
    good(27, user_id=""), good(28, user_id="u" * 257), good(29, error_type="e" * 65),
    # Where the SQL form's shortcuts (byte counts for lengths, a printable first character for \S,
    # seconds as double precision) must hand over to the exact test: two-byte characters at the
    # bound (256 of them are fine, 257 are not), whitespace-only and space-led ids, the window's edge.
    good(30, user_id="é" * 256), good(31, user_id="é" * 257), good(32, request_id="\t\n"),
    good(33, request_id=" x"), good(34, request_id="éa"),
    good(35, event_time=TAMPERED_HOUR + HOUR + timedelta(days=1)),  # exactly the allowed clock skew: fine
    good(36, event_time=TAMPERED_HOUR + HOUR + timedelta(days=1, milliseconds=1)),
]
UNEXPECTED = {
    "organization_id_not_null": 1, "organization_id_well_formed": 2, "organization_id_length": 2,
    "request_id_not_null": 1, "request_id_length": 2, "request_id_not_blank": 3,
    "request_id_unique_per_organization": 2, "event_time_within_contract_window": 3,
    "event_time_whole_milliseconds": 1, "status_code_in_http_range": 2, "duration_ms_non_negative": 3,
    "queue_wait_ms_non_negative": 1, "tokens_consumed_non_negative": 1, "tokens_input_non_negative": 1,
    "tokens_output_non_negative": 1, "content_hash_not_null": 1, "content_hash_is_hex": 1,
    "content_hash_is_md5_length": 1, "attributes_is_json_object": 1, "user_id_length": 3, "error_type_length": 1,
}
# event_time is the partition key of analytics_events: a NULL cannot be stored, so that rule
# (defence in depth) cannot be broken here.
NEVER_BROKEN = {"event_time_not_null"}


def tamper(url: str) -> int:
    """Store BAD_ROWS as one more object delivered at TAMPERED_HOUR (the NOT NULL constraints
    dropped first); return how many events that hour now holds."""
    columns = list(BAD_ROWS[0])
    times = [row["event_time"] for row in BAD_ROWS]
    with connect(url) as conn:
        for column in ("organization_id", "request_id", "content_hash"):
            conn.execute(f"ALTER TABLE analytics_events ALTER COLUMN {column} DROP NOT NULL")
        for day in {t.date() for t in times}:
            conn.execute("SELECT analytics_ensure_event_partition(%s)", (day,))
        object_id = conn.execute(
            "INSERT INTO analytics_ingested_objects (object_key, etag, size_bytes, delivery_hour, status, lines_read, "
            "accepted, min_event_time, max_event_time) VALUES ('tampered', 'e', 1, %s, 'loaded', %s, %s, %s, %s) "
            "RETURNING object_id", (TAMPERED_HOUR, len(BAD_ROWS), len(BAD_ROWS), min(times), max(times))).fetchone()[0]
        with conn.cursor().copy(f"COPY analytics_events ({', '.join(columns)}, object_id) FROM STDIN") as copy:
            for row in BAD_ROWS:
                copy.write_row([*row.values(), object_id])
        held = conn.execute("SELECT sum(accepted) FROM analytics_ingested_objects WHERE delivery_hour = %s",
                            (TAMPERED_HOUR,)).fetchone()[0]
        conn.commit()
    return held


def test_every_breakable_rule_fails_on_the_rows_that_break_it(store, warehouse_url, capfd):
    held = tamper(warehouse_url)
    root_level, partner = logging.getLogger().level, os.environ.get("SF_PARTNER")

    validation = validate_raw_events(warehouse_url, TAMPERED_HOUR, TAMPERED_HOUR + HOUR)

    unexpected = {o.name: o.unexpected_count for o in validation.outcomes if not o.success}
    assert unexpected == UNEXPECTED
    assert {o.name for o in validation.outcomes if o.success} == NEVER_BROKEN
    assert not any(o.error for o in validation.outcomes)
    assert validation.rows_checked == held == validation.events_in_ledger > len(BAD_ROWS)
    assert (validation.evaluated, validation.failed) == (len(UNEXPECTED) + 1, len(UNEXPECTED))
    examples = {o.name: o.examples for o in validation.outcomes}
    assert examples["status_code_in_http_range"] and set(examples["status_code_in_http_range"]) <= {"700", "99"}
    assert "**FAIL**" in validation.markdown() and "| content_hash_is_hex |" in validation.markdown()
    # GX stays quiet and leaves the process as it found it.
    out, err = capfd.readouterr()
    assert "Calculating Metrics" not in out + err
    assert (logging.getLogger().level, os.environ.get("SF_PARTNER")) == (root_level, partner)


def test_the_one_pass_sql_form_counts_what_gx_counts(store, warehouse_url):
    held = tamper(warehouse_url)
    with connect(warehouse_url) as conn:
        checked = check_delivery_window(conn, TAMPERED_HOUR, TAMPERED_HOUR + HOUR, TAMPERED_HOUR - timedelta(days=80))
    gx = validate_raw_events(warehouse_url, TAMPERED_HOUR, TAMPERED_HOUR + HOUR)
    in_sql = {o.name: o.unexpected_count for o in checked.contract.outcomes}
    assert in_sql == {o.name: o.unexpected_count for o in gx.outcomes}  # rule for rule, with GX
    assert {name: count for name, count in in_sql.items() if count} == UNEXPECTED
    assert checked.contract.rows_checked == gx.rows_checked == held
    assert [o.name for o in checked.contract.outcomes] == [e.name for e in raw_event_expectations()]
    # The same pass counts the stored events the ledger comparison needs.
    assert checked.ledger.stored_events == held and checked.ledger.adds_up
    with connect(warehouse_url) as conn:
        clean = check_delivery_window(conn, CLEAN_HOUR, CLEAN_HOUR + HOUR, CLEAN_HOUR - timedelta(days=80))
    assert clean.contract.success and clean.contract.rows_checked == clean.ledger.stored_events > 0


def test_a_repeated_key_hash_is_told_apart_from_a_repeated_key(store, warehouse_url):
    """The uniqueness rule groups 64-bit hashes first; a hash that repeats without its key (a
    collision) must not count. Given the hashes of keys that occur once, the key step counts 0."""
    from psycopg import sql as psql

    from analytics_pipeline.ingestion.quality import _repeated_rows
    from analytics_pipeline.warehouse.sql import compose_sql

    tamper(warehouse_url)
    window = compose_sql("ingestion/events_delivered_in_window", **{
        name: psql.Placeholder(name) for name in ("source", "range_start", "range_end", "events_from", "events_to")})
    params = {"source": "usage_logs", "range_start": TAMPERED_HOUR, "range_end": TAMPERED_HOUR + HOUR,
              "events_from": TAMPERED_HOUR - timedelta(days=500), "events_to": TAMPERED_HOUR + timedelta(days=2)}
    with connect(warehouse_url) as conn:
        assert _repeated_rows(conn, window, ["organization_id", "request_id"], params) == 2  # the two "dup" rows
        once = conn.execute("SELECT array_agg(hashtextextended(concat_ws(chr(31), organization_id, request_id), 0)) "
                            "FROM analytics_events WHERE request_id IN ('t-1', 't-2')").fetchone()[0]
        parts = {"window": window, "columns": psql.SQL("organization_id, request_id")}
        counted = conn.execute(compose_sql("ingestion/delivery_window_repeated_keys", **parts),
                               {**params, "hashes": once}).fetchone()[0]
    assert counted == 0


def test_an_hour_without_events_passes_without_running_gx(warehouse_url):
    validation = validate_raw_events(warehouse_url, CLEAN_HOUR, CLEAN_HOUR + HOUR)
    assert validation.success and validation.rows_checked == 0 and validation.outcomes == ()
    assert validation.seconds == 0.0


def test_the_asset_check_passes_a_clean_hour_and_fails_a_tampered_one(store, warehouse_url, dagster_instance):
    tamper(warehouse_url)
    resources = pipeline_resources(warehouse_url, str(store.root))

    def check(hour: datetime) -> dg.AssetCheckEvaluation:
        key = hour.strftime("%Y-%m-%d-%H:%M")  # only the check runs: a one-partition range
        result = dg.materialize([raw_usage_events, raw_events_meet_expectations], instance=dagster_instance,
                                resources=resources, tags={RANGE_START_TAG: key, RANGE_END_TAG: key},
                                selection=dg.AssetSelection.checks(raw_events_meet_expectations))
        [evaluation] = result.get_asset_check_evaluations()
        return evaluation

    clean = check(CLEAN_HOUR)
    assert clean.passed, clean.description
    assert clean.metadata["rows_checked"].value == clean.metadata["events_in_ledger"].value > 0
    assert clean.metadata["expectations_failed"].value == 0
    assert clean.metadata["expectations_evaluated"].value == len(UNEXPECTED) + 1
    assert clean.description.startswith("all 22 expectations met by")

    tampered = check(TAMPERED_HOUR)
    assert not tampered.passed and tampered.severity == dg.AssetCheckSeverity.ERROR
    assert tampered.metadata["expectations_failed"].value == len(UNEXPECTED)
    assert tampered.metadata["unexpected_rows"].value == sum(UNEXPECTED.values())
    assert tampered.metadata["unexpected_by_expectation"].value == UNEXPECTED
    assert "| duration_ms_non_negative | duration_ms >= 0 and finite | **FAIL** | 3 |" in (
        tampered.metadata["expectations"].value)
    assert "status_code_in_http_range (2 rows)" in tampered.description


def test_loading_the_definitions_does_not_import_great_expectations():
    code = ("import sys, analytics_pipeline.definitions; "
            "sys.exit('great_expectations' in sys.modules or 'great_expectations.expectations' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stdout + result.stderr or "great_expectations was imported"
