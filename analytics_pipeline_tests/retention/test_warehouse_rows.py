"""Rollups kept 13 complete months, quarantine 90 days: the boundaries, and dry runs."""

from datetime import UTC, datetime, timedelta

import pytest

from analytics_pipeline.retention.policy import RetentionPolicy
from analytics_pipeline.retention.warehouse_rows import delete_expired_quarantine, delete_expired_rollups
from analytics_pipeline_tests.retention.helpers import warehouse_snapshot

NOW = datetime(2027, 1, 10, 4, 30, tzinfo=UTC)
CUTOFFS = RetentionPolicy().cutoffs(NOW)  # rollups before 2025-12-01, quarantine before 2026-10-12T04:30
LAST_EXPIRED_HOUR = datetime(2025, 11, 30, 23, tzinfo=UTC)
FIRST_KEPT_HOUR = datetime(2025, 12, 1, tzinfo=UTC)


@pytest.fixture
def rollups(conn):
    for bucket in (datetime(2025, 6, 1, tzinfo=UTC), LAST_EXPIRED_HOUR, FIRST_KEPT_HOUR, NOW):
        conn.execute(
            "INSERT INTO analytics_hourly_rollups (bucket_start, organization_id, model_id, request_count, "
            "tokens_input, tokens_output, tokens_total, error_count, client_error_count, server_error_count, "
            "cost_total) VALUES (%s, 'org-a', 'm1', 1, 1, 1, 2, 0, 0, 0, 0.5)", (bucket,))
    for day in (datetime(2025, 11, 30, tzinfo=UTC), FIRST_KEPT_HOUR):
        conn.execute(
            "INSERT INTO analytics_daily_rollups SELECT %s, organization_id, model_id, request_count, tokens_input, "
            "tokens_output, tokens_total, error_count, client_error_count, server_error_count, cost_total "
            "FROM analytics_hourly_rollups LIMIT 1", (day,))
        conn.execute(
            "INSERT INTO analytics_endpoint_daily_rollups (bucket_start, organization_id, endpoint, request_count, "
            "error_count, client_error_count, server_error_count, rate_limited_count) "
            "VALUES (%s, 'org-a', '/api/v1/agents', 1, 0, 0, 0, 0)", (day,))


@pytest.fixture
def quarantine(conn):
    object_id = conn.execute(
        "INSERT INTO analytics_ingested_objects (object_key, etag, size_bytes, delivery_hour, status) "
        "VALUES ('k', 'e', 1, now(), 'loaded') RETURNING object_id").fetchone()[0]
    for age in (timedelta(days=200), timedelta(days=90, seconds=1), timedelta(days=89, hours=23)):
        conn.execute("INSERT INTO analytics_quarantine (object_id, object_key, reason, quarantined_at) "
                     "VALUES (%s, 'k', 'invalid_json', %s)", (object_id, NOW - age))


def buckets(conn, table):
    return [r[0] for r in conn.execute(f"SELECT bucket_start FROM {table} ORDER BY 1")]  # noqa: S608 - fixed names


def test_rollups_older_than_thirteen_complete_months_are_deleted(conn, rollups):
    report = delete_expired_rollups(conn, CUTOFFS)
    assert report.figures["hourly_rollups_rows_deleted"] == 2
    assert report.figures["daily_rollups_rows_deleted"] == 1
    assert report.figures["endpoint_daily_rollups_rows_deleted"] == 1
    assert report.figures["oldest_deleted"] == "2025-06-01T00:00:00+00:00"
    assert report.figures["deleted_before"] == "2025-12-01T00:00:00+00:00"
    assert buckets(conn, "analytics_hourly_rollups") == [FIRST_KEPT_HOUR, NOW]
    assert buckets(conn, "analytics_daily_rollups") == [FIRST_KEPT_HOUR]
    assert buckets(conn, "analytics_endpoint_daily_rollups") == [FIRST_KEPT_HOUR]
    assert delete_expired_rollups(conn, CUTOFFS).figures["rows_deleted"] == 0


def test_quarantine_older_than_ninety_days_is_deleted(conn, quarantine):
    report = delete_expired_quarantine(conn, CUTOFFS)
    assert report.figures["rows_deleted"] == 2 and report.figures["oldest_age_days"] == 200
    remaining = [r[0] for r in conn.execute("SELECT quarantined_at FROM analytics_quarantine")]
    assert remaining == [NOW - timedelta(days=89, hours=23)]


def test_dry_runs_count_and_delete_nothing(conn, rollups, quarantine):
    before = warehouse_snapshot(conn)
    assert delete_expired_rollups(conn, CUTOFFS, dry_run=True).figures["rows_deleted"] == 4
    report = delete_expired_quarantine(conn, CUTOFFS, dry_run=True)
    assert report.figures["rows_deleted"] == 2 and report.items[0]["action"] == "would delete"
    assert warehouse_snapshot(conn) == before
