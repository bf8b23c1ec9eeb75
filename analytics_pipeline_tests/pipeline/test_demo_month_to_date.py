"""The demo's month to date: generated from its own seed stream up to the injected now and loaded
so that the raw events are fresh, and the current hour has rollups and SRE metrics for the
status page."""

from datetime import UTC, datetime, timedelta

from analytics_pipeline.api.routes.portal.public import status_figures
from analytics_pipeline.cli.demo import generate_and_load_month_to_date
from analytics_pipeline.defs.ingestion.assets import RAW_FRESHNESS
from analytics_pipeline.ingestion.freshness import raw_events_freshness
from analytics_pipeline.monitoring.freshness import FRESH
from analytics_pipeline.storage.object_store import S3ObjectStore
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.resources import pipeline_resources

NOW = datetime(2026, 11, 2, 10, 25, tzinfo=UTC)  # the demo's clock: the second day of the month


def test_the_month_to_date_is_fresh_and_reaches_the_current_hour(warehouse_url, s3_endpoint, s3_bucket, s3_client,
                                                                 dagster_instance):
    resources = pipeline_resources(warehouse_url, f"s3://{s3_bucket}", s3_endpoint=s3_endpoint, now=NOW)
    logs = S3ObjectStore(s3_client, s3_bucket, "logs")
    generated, results = generate_and_load_month_to_date(
        lambda key, data: logs.write(key, data), NOW, orgs=3, models=3, events_per_hour=30, seed=7,
        duplicate_rate=0.01, malformed_rate=0.0, instance=dagster_instance, resources=resources)

    assert all(result.success for _, result in results)
    current_hour = NOW.replace(minute=0)
    with connect(warehouse_url) as conn:
        reading = raw_events_freshness(conn, NOW, RAW_FRESHNESS.warn_window.to_timedelta(),
                                       RAW_FRESHNESS.fail_window.to_timedelta())
        first, last, events = conn.execute(
            "SELECT min(event_time), max(event_time), count(*) FROM analytics_events").fetchone()
        rollup_hours = conn.execute("SELECT count(DISTINCT bucket_start), max(bucket_start) "
                                    "FROM analytics_hourly_rollups").fetchone()
        figures = status_figures(conn, NOW, None)
    assert reading.state == FRESH and reading.lag < timedelta(minutes=25)
    # Everything generated is loaded, from the month's first hour to now, and nothing after now.
    assert events == generated.valid_events
    assert first < datetime(2026, 11, 1, 1, tzinfo=UTC) and current_hour <= last < NOW
    assert rollup_hours == (35, current_hour)  # every hour of Nov 1 and 00:00-10:00 of Nov 2, the current one last
    assert figures["latest"] == current_hour
    assert figures["endpoints"] and all(entry["window"].requests for entry in figures["endpoints"].values())
    assert figures["state"] != "no_data"
