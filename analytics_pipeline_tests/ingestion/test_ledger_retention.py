"""``ingest_ledger_adds_up`` after retention: the ledger keeps its counts when retention deletes
quarantine rows (90 days) and drops raw-event days (400 days), so a re-run or backfill of the
check for an old delivery hour compares only what retention cannot have removed."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from analytics_pipeline.defs.ingestion.assets import raw_usage_events
from analytics_pipeline.defs.ingestion.checks import INGEST_LEDGER_ADDS_UP, delivery_hour_checks
from analytics_pipeline.defs.shared import RANGE_END_TAG, RANGE_START_TAG
from analytics_pipeline.ingestion.quality import ledger_totals, quarantine_kept_since
from analytics_pipeline.retention.policy import RetentionPolicy
from analytics_pipeline.retention.raw_archive import archive_raw_event_days
from analytics_pipeline.retention.raw_partitions import drop_expired_raw_partitions
from analytics_pipeline.retention.warehouse_rows import delete_expired_quarantine
from analytics_pipeline.storage.object_store import LocalDirectoryStore
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.resources import pipeline_resources

NOW = datetime(2026, 11, 20, 10, 17, 43, tzinfo=UTC)  # the clock of retention and of the check
HOUR = timedelta(hours=1)
QUARANTINE_EXPIRED = (NOW - timedelta(days=120)).replace(minute=0, second=0, microsecond=0)  # events kept
DAY_DROPPED = (NOW - timedelta(days=410)).replace(minute=0, second=0, microsecond=0)  # events dropped too


def add_object(conn, key: str, delivery_hour: datetime, ingested_at: datetime, accepted: int, quarantined: int,
               event_hour: datetime) -> int:
    """A ledger row, its accepted events (in ``event_hour``) and its quarantine rows, written as
    ingestion does: the quarantine rows in the ledger row's transaction (same ``now()``)."""
    object_id = conn.execute(
        "INSERT INTO analytics_ingested_objects (object_key, etag, size_bytes, delivery_hour, status, lines_read, "
        "accepted, duplicates, quarantined, min_event_time, max_event_time, ingested_at) "
        "VALUES (%s, 'e', 1, %s, 'loaded', %s, %s, 1, %s, %s, %s, %s) RETURNING object_id",
        (key, delivery_hour, accepted + 1 + quarantined, accepted, quarantined, event_hour,
         event_hour + timedelta(minutes=accepted - 1), ingested_at)).fetchone()[0]
    conn.execute("SELECT analytics_ensure_event_partition(%s)", (event_hour.date(),))
    conn.cursor().executemany(
        "INSERT INTO analytics_events (event_time, organization_id, request_id, content_hash, object_id) "
        "VALUES (%s, 'org-a', %s, md5(%s), %s)",
        [(event_hour + timedelta(minutes=i), f"{key}-{i}", f"{key}-{i}", object_id) for i in range(accepted)])
    conn.cursor().executemany(
        "INSERT INTO analytics_quarantine (object_id, object_key, line_number, reason, quarantined_at) "
        "VALUES (%s, %s, %s, 'invalid_json', %s)", [(object_id, key, i, ingested_at) for i in range(quarantined)])
    return object_id


@pytest.fixture
def warehouse(warehouse_url, tmp_path):
    """Two old delivery hours, then a real retention pass as of now: quarantine rows past 90
    days deleted, the day 410 days ago archived (Parquet, verified) and its partition dropped."""
    with connect(warehouse_url, autocommit=True) as conn:
        add_object(conn, "old-a", QUARANTINE_EXPIRED, QUARANTINE_EXPIRED + 5 * timedelta(minutes=1), 3, 2,
                   QUARANTINE_EXPIRED)
        add_object(conn, "old-b", QUARANTINE_EXPIRED, QUARANTINE_EXPIRED + 5 * timedelta(minutes=1), 4, 1,
                   QUARANTINE_EXPIRED)
        # The same hour's log re-delivered (new etag) and ingested today: its quarantine rows are kept.
        add_object(conn, "redelivered", QUARANTINE_EXPIRED, NOW - HOUR, 2, 3, QUARANTINE_EXPIRED + 10 * HOUR)
        add_object(conn, "dropped", DAY_DROPPED, DAY_DROPPED + 5 * timedelta(minutes=1), 5, 2, DAY_DROPPED)
        cutoffs = RetentionPolicy().cutoffs(NOW)
        store = LocalDirectoryStore(tmp_path / "archive")
        assert not archive_raw_event_days(conn, store, cutoffs).problems
        assert drop_expired_raw_partitions(conn, store, cutoffs).figures["partitions_dropped"] == 1
        assert delete_expired_quarantine(conn, cutoffs).figures["rows_deleted"] == 2 + 1 + 2
    return warehouse_url


def totals_of(url: str, hour: datetime):
    with connect(url) as conn:
        return ledger_totals(conn, hour, hour + HOUR, quarantine_kept_since(NOW, 90))


def test_the_cutoff_is_the_quarantine_period_less_a_day_of_margin():
    now = datetime(2027, 1, 10, 4, 30, tzinfo=UTC)
    assert quarantine_kept_since(now, 90) == datetime(2026, 10, 13, 4, 30, tzinfo=UTC)  # 89 days before
    # Retention as of now (or an hour ahead) deletes only rows older than 90 days: all left out.
    assert RetentionPolicy().cutoffs(now + HOUR).quarantine_before < quarantine_kept_since(now, 90)


def test_what_retention_removed_is_left_out_and_the_rest_still_compared(warehouse):
    quarantine_expired = totals_of(warehouse, QUARANTINE_EXPIRED)
    assert quarantine_expired.adds_up
    assert (quarantine_expired.objects, quarantine_expired.accepted, quarantine_expired.quarantined) == (3, 9, 6)
    # Events are all still there and compared; only the re-delivered object's quarantine rows are.
    assert quarantine_expired.stored_events == quarantine_expired.accepted_compared == 9
    assert quarantine_expired.objects_past_quarantine_retention == 2
    assert quarantine_expired.stored_quarantine_rows == quarantine_expired.quarantined_compared == 3
    assert quarantine_expired.objects_with_dropped_days == 0

    dropped = totals_of(warehouse, DAY_DROPPED)
    assert dropped.adds_up
    assert (dropped.objects, dropped.lines_read, dropped.accepted, dropped.quarantined) == (1, 8, 5, 2)
    assert (dropped.objects_with_dropped_days, dropped.objects_past_quarantine_retention) == (1, 1)
    assert (dropped.stored_events, dropped.accepted_compared, dropped.stored_quarantine_rows,
            dropped.quarantined_compared) == (0, 0, 0, 0)


@pytest.mark.parametrize("tamper", [
    # an event lost, of an object whose quarantine rows expired: events are still compared
    "DELETE FROM analytics_events WHERE request_id = 'old-a-1'",
    # a quarantine row lost, of the object ingested today
    "DELETE FROM analytics_quarantine WHERE quarantine_id = (SELECT min(quarantine_id) FROM analytics_quarantine)",
    # a row too many
    "INSERT INTO analytics_quarantine (object_id, object_key, reason) "
    "SELECT object_id, object_key, 'invalid_json' FROM analytics_ingested_objects WHERE object_key = 'redelivered'",
])
def test_losses_retention_does_not_explain_still_fail(warehouse, tamper):
    with connect(warehouse) as conn:
        conn.execute(tamper)
    assert not totals_of(warehouse, QUARANTINE_EXPIRED).adds_up


def test_the_blocking_check_passes_old_hours_and_reports_what_it_left_out(warehouse, dagster_instance, tmp_path):
    resources = pipeline_resources(warehouse, str(tmp_path), now=NOW)

    def check(hour: datetime) -> dg.AssetCheckEvaluation:
        key = hour.strftime("%Y-%m-%d-%H:%M")  # only the check runs: a one-partition range
        result = dg.materialize([raw_usage_events, delivery_hour_checks], instance=dagster_instance,
                                resources=resources, tags={RANGE_START_TAG: key, RANGE_END_TAG: key},
                                selection=dg.AssetSelection.checks(INGEST_LEDGER_ADDS_UP),
                                raise_on_error=False)  # a failed blocking check fails the run
        [evaluation] = result.get_asset_check_evaluations()
        return evaluation

    dropped = check(DAY_DROPPED)
    assert dropped.passed, dropped.description
    assert dropped.metadata["objects_excluded_events_dropped"].value == 1
    assert dropped.metadata["objects_excluded_quarantine_expired"].value == 1
    assert "not compared (removed by retention): quarantine rows of 1 objects ingested before" in dropped.description
    assert "events of 1 objects with an event day dropped by raw retention" in dropped.description

    with connect(warehouse) as conn:
        conn.execute("DELETE FROM analytics_events WHERE request_id = 'old-b-3'")
        conn.commit()
    tampered = check(QUARANTINE_EXPIRED)
    assert not tampered.passed
    assert tampered.metadata["stored_events"].value == tampered.metadata["accepted_compared"].value - 1 == 8
    assert tampered.metadata["objects_excluded_quarantine_expired"].value == 2
    assert tampered.metadata["quarantined_compared"].value == tampered.metadata["stored_quarantine_rows"].value == 3
    assert tampered.description.startswith("ledger says 9 accepted / 3 quarantined; warehouse holds 8 events / 3 ")
