"""The shipped rules over real warehouse readings: an organization against its own baseline (hourly SRE
metrics), a stalled ledger source where traffic was expected, a stuck export queue."""

from datetime import UTC, datetime, timedelta

from analytics_pipeline.alerts.conditions import evaluate
from analytics_pipeline.alerts.observations import observe
from analytics_pipeline.alerts.rules import load_rules
from analytics_pipeline.exports.export_jobs import ExportRequest, record_request
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.alerts.platform_events import insert_endpoint_events

NOW = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


def _baseline_hour(conn, hour, organization, requests, failures):
    conn.execute("""
        INSERT INTO analytics_endpoint_hourly_metrics (bucket_start, organization_id, endpoint, request_count,
            status_2xx, status_3xx, status_4xx, status_5xx, status_unknown, rate_limited_count,
            error_types_on_non_errors)
        VALUES (%s, %s, '/v1/chat', %s, %s, 0, 0, %s, 0, 0, 0)""",
                 (hour, organization, requests, requests - failures, failures))


def _ledger(conn, source, key, at):
    conn.execute("INSERT INTO analytics_ingested_objects (source, object_key, etag, size_bytes, delivery_hour, "
                 "status, ingested_at) VALUES (%s, %s, 'e', 1, %s, 'loaded', %s)",
                 (source, key, at.replace(minute=0), at))


def test_the_shipped_rules_judge_the_warehouse(warehouse_url):
    with connect(warehouse_url) as conn:
        for back in range(1, 25):  # a day of baseline: acme 0.1 % of 5xx, flaky 12 %
            hour = NOW.replace(minute=0) - timedelta(hours=back)
            _baseline_hour(conn, hour, "acme", 1000, 1)
            _baseline_hour(conn, hour, "flaky", 1000, 120)
        # The window: both at 15 % of 5xx (30 of 200).
        for organization in ("acme", "flaky"):
            insert_endpoint_events(conn, endpoint="/v1/chat", organization=organization, count=170,
                                   start=NOW - timedelta(minutes=10), prefix=f"{organization}-ok")
            insert_endpoint_events(conn, endpoint="/v1/chat", organization=organization, count=30, status=500,
                                   start=NOW - timedelta(minutes=5), prefix=f"{organization}-bad")
        _ledger(conn, "usage_logs", "a", NOW - timedelta(hours=3))
        _ledger(conn, "usage_logs", "b", NOW - timedelta(minutes=40))  # nothing since: stalled
        _ledger(conn, "kinesis", "shard-1/1", NOW - timedelta(minutes=1))  # live: fine
        _ledger(conn, "firehose", "old", NOW - timedelta(days=3))  # not expected any more
        record_request(conn, ExportRequest.parse(organization_id="acme", start="2026-10-01", end="2026-10-02",
                                                 initiated_by="t"), created_at=NOW - timedelta(minutes=20))
        conn.commit()
        conditions = {c.dedup_key: c for c in evaluate(load_rules(), observe(conn, load_rules(), NOW))}
    assert {key for key in conditions if key.startswith(("organization", "ingestion", "export"))} == {
        "organization_error_rate/acme", "ingestion_stalled/usage_logs", "export_queue_stuck/exports"}
    acme = conditions["organization_error_rate/acme"].details
    # The baseline is the whole hours before the window (11:45): the hour of 11:00 is not one of them.
    assert (acme["rate_percent"], acme["baseline_percent"], acme["baseline_requests"]) == (15.0, 0.1, 23_000)
    assert conditions["ingestion_stalled/usage_logs"].severity == "critical"
    assert conditions["export_queue_stuck/exports"].details["count"] == 1
