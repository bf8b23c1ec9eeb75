"""The metrics follow their inputs: the daily metrics the daily rollups, the hourly ones the event hours."""

import dagster as dg

from analytics_pipeline.defs.metrics.sensors import daily_metrics_follow_rollups_sensor, sre_metrics_restatement_sensor

START, END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def ranges(result):
    return sorted((r.job_name, r.tags[START], r.tags[END]) for r in result.run_requests)


def test_daily_metrics_follow_the_days_whose_rollups_were_materialized():
    with dg.instance_for_test() as instance:
        for day in ("2026-01-03", "2026-01-04", "2026-01-07"):
            instance.report_runless_asset_event(dg.AssetMaterialization("daily_usage_rollups", partition=day))
        result = daily_metrics_follow_rollups_sensor(dg.build_sensor_context(instance=instance))
        assert ranges(result) == [("daily_metrics_job", "2026-01-03", "2026-01-04"),
                                  ("daily_metrics_job", "2026-01-07", "2026-01-07")]
        again = daily_metrics_follow_rollups_sensor(dg.build_sensor_context(instance=instance, cursor=result.cursor))
        assert not again.run_requests


def test_sre_metrics_restate_the_event_hours_and_sessions_a_day_around_them():
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization(
            "raw_usage_events", partition="2026-01-05-10:00",
            metadata={"event_hours": ["2026-01-05-08:00", "2026-01-05-10:00"]}))  # a late hour and its own
        result = sre_metrics_restatement_sensor(dg.build_sensor_context(instance=instance))
        assert ranges(result) == [
            ("session_concurrency_job", "2026-01-04-07:00", "2026-01-06-10:00"),  # 25 h before, 24 h after
            ("sre_metrics_job", "2026-01-05-08:00", "2026-01-05-08:00"),
            ("sre_metrics_job", "2026-01-05-10:00", "2026-01-05-10:00"),
        ]
        assert not sre_metrics_restatement_sensor(dg.build_sensor_context(instance=instance,
                                                                          cursor=result.cursor)).run_requests
