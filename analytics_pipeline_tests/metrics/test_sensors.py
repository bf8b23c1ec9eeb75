"""The metrics follow their inputs, and only where they lag them: the daily metrics the daily
rollups, the hourly SRE metrics the events the ingest ledger holds for each hour."""

import gzip
from datetime import UTC, datetime, timedelta

import dagster as dg
import orjson

from analytics_pipeline.defs.ingestion.assets import raw_usage_events
from analytics_pipeline.defs.metrics.sensors import daily_metrics_follow_rollups_sensor, sre_metrics_restatement_sensor
from analytics_pipeline.metrics.sre import replace_endpoint_metrics
from analytics_pipeline.rollups.usage import Granularity, replace_usage_rollups
from analytics_pipeline.storage.object_store import S3ObjectStore
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.metrics.events import at
from analytics_pipeline_tests.metrics.test_metrics_assets import run
from analytics_pipeline_tests.resources import pipeline_resources

START, END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
NOW = datetime(2026, 1, 6, 16, tzinfo=UTC)  # the SRE test's clock


def ranges(result):
    return sorted((r.job_name, r.tags[START], r.tags[END]) for r in result.run_requests)


def tick(sensor, instance, resources, cursor=None):
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
        return sensor(context)


def rollups_materialized(instance, *days):
    for day in days:
        instance.report_runless_asset_event(dg.AssetMaterialization("daily_usage_rollups", partition=day))


def test_daily_metrics_follow_the_days_whose_rollups_are_newer_than_their_metrics(loaded, tmp_path,
                                                                                   dagster_instance):
    resources = pipeline_resources(loaded, str(tmp_path), now=at("2026-03-29 06:00"))
    rollups_materialized(dagster_instance, "2026-03-03", "2026-03-04", "2026-03-07")
    first = tick(daily_metrics_follow_rollups_sensor, dagster_instance, resources)
    assert ranges(first) == [("daily_metrics_job", "2026-03-03", "2026-03-04"),
                             ("daily_metrics_job", "2026-03-07", "2026-03-07")]  # no metrics yet
    assert not tick(daily_metrics_follow_rollups_sensor, dagster_instance, resources, first.cursor).run_requests

    assert run(resources, dagster_instance).success  # the month's metrics, computed after its rollups
    assert not tick(daily_metrics_follow_rollups_sensor, dagster_instance, resources).run_requests  # from the start

    with connect(loaded) as conn:  # 2026-03-04 restated (a new price catalog, late events): its metrics lag
        replace_usage_rollups(conn, Granularity.DAILY, at("2026-03-04 00:00"), at("2026-03-05 00:00"))
    rollups_materialized(dagster_instance, "2026-03-04", "2026-03-07")
    again = tick(daily_metrics_follow_rollups_sensor, dagster_instance, resources, first.cursor)
    assert ranges(again) == [("daily_metrics_job", "2026-03-04", "2026-03-04")]


def test_sre_metrics_restate_the_lagging_hours_and_sessions_a_day_around_them(warehouse_url, s3_endpoint, s3_bucket,
                                                                             s3_client, dagster_instance):
    store = S3ObjectStore(s3_client, s3_bucket, "logs")
    resources = pipeline_resources(warehouse_url, f"s3://{s3_bucket}", s3_endpoint=s3_endpoint, now=NOW)
    h8, h9, h10 = (datetime(2026, 1, 5, hour, tzinfo=UTC) for hour in (8, 9, 10))

    def deliver(hour, name, event_hours):
        lines = [orjson.dumps({"timestamp": (when + timedelta(minutes=10)).isoformat(), "customer_id": "org-1",
                               "request_id": f"{name}-{i}", "status_code": 200})
                 for i, when in enumerate(event_hours)]
        store.write(f"{hour:%Y/%m/%d/%H}/{name}.jsonl.gz", gzip.compress(b"\n".join(lines) + b"\n", mtime=0))
        dg.materialize([raw_usage_events], instance=dagster_instance, resources=resources,
                       partition_key=hour.strftime("%Y-%m-%d-%H:%M"))

    deliver(h10, "first", [h8, h10, h10])  # a late hour and its own
    first = tick(sre_metrics_restatement_sensor, dagster_instance, resources)
    assert ranges(first) == [
        ("session_concurrency_job", "2026-01-04-07:00", "2026-01-06-10:00"),  # 25 h before, 24 h after
        ("sre_metrics_job", "2026-01-05-08:00", "2026-01-05-08:00"),
        ("sre_metrics_job", "2026-01-05-10:00", "2026-01-05-10:00"),
    ]
    assert not tick(sre_metrics_restatement_sensor, dagster_instance, resources, first.cursor).run_requests

    with connect(warehouse_url) as conn:  # what sre_metrics_job does for 08:00..10:00
        replace_endpoint_metrics(conn, h8, h10 + timedelta(hours=1))
    assert not tick(sre_metrics_restatement_sensor, dagster_instance, resources).run_requests  # from the start

    deliver(h10 + timedelta(hours=1), "late", [h9])  # a late event for 09:00 alone
    late = tick(sre_metrics_restatement_sensor, dagster_instance, resources, first.cursor)
    assert ranges(late) == [("session_concurrency_job", "2026-01-04-08:00", "2026-01-06-09:00"),
                            ("sre_metrics_job", "2026-01-05-09:00", "2026-01-05-09:00")]
