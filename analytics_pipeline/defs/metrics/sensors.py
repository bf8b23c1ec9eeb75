"""The metrics follow the data they are computed from, and only where they lag it.

``daily_metrics_follow_rollups_sensor`` restates the daily metrics of the days whose daily
rollups were materialized and computed after the day's metrics (new events, a new price
catalog), or that have no metrics yet;
``sre_metrics_restatement_sensor`` restates the hourly SRE metrics of the event hours new raw
events fell in whose metrics no longer count the events the ingest ledger holds, and the session
concurrency of the hours a day either side of them (a session's span reaches that far). So a
backfill that computed the metrics with its data requests nothing more. Both keep the storage id
of the last materialization they handled as their cursor and request one single-run range per
stretch of partitions.
"""

from datetime import UTC, datetime, timedelta

import dagster as dg

from analytics_pipeline.defs.metrics.jobs import daily_metrics_job, session_concurrency_job, sre_metrics_job
from analytics_pipeline.defs.resources import WarehouseResource
from analytics_pipeline.defs.shared import (
    DAY_KEY_FORMAT,
    HOUR_KEY_FORMAT,
    MATERIALIZATIONS_PER_TICK,
    contiguous_ranges,
    daily_partitions,
    described_sensor,
    hourly_partitions,
    range_tags,
    raw_event_hours_touched,
)
from analytics_pipeline.metrics.activity import stale_activity_days
from analytics_pipeline.metrics.sre import restatement_reach, stale_sre_hours

DAILY_USAGE_ROLLUPS = dg.AssetKey("daily_usage_rollups")


@described_sensor(jobs=[daily_metrics_job], minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def daily_metrics_follow_rollups_sensor(context: dg.SensorEvaluationContext,
                                        warehouse: WarehouseResource) -> dg.SensorResult:
    """After new `daily_usage_rollups` materializations (a day, or a restated day), runs
    `daily_metrics_job` over those of the days whose metrics are older than their rollups
    (sql/metrics/stale_activity_days.sql): one single-run range per stretch of days."""
    after = int(context.cursor) if context.cursor else None
    result = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=DAILY_USAGE_ROLLUPS, after_storage_id=after), limit=MATERIALIZATIONS_PER_TICK,
        ascending=True)
    if not result.records:
        return dg.SensorResult()
    touched = {record.partition_key for record in result.records if record.partition_key}
    with warehouse.connect() as conn:
        days = {day.strftime(DAY_KEY_FORMAT) for day in stale_activity_days(
            conn, [datetime.strptime(key, DAY_KEY_FORMAT).date() for key in touched])}
    last = result.records[-1].storage_id
    return dg.SensorResult(cursor=str(last), run_requests=[
        dg.RunRequest(run_key=f"{last}:{daily_metrics_job.name}:{first}:{final}", job_name=daily_metrics_job.name,
                      tags=range_tags(first, final))
        for first, final in contiguous_ranges(days, daily_partitions)])


def _hour(key: str) -> datetime:
    return datetime.strptime(key, HOUR_KEY_FORMAT).replace(tzinfo=UTC)


def _hours_between(first: datetime, last: datetime) -> set[str]:
    """The hourly partition keys of ``[first, last]`` that exist (none after the current hour)."""
    return set(hourly_partitions.get_partition_keys_in_time_window(dg.TimeWindow(first, last + timedelta(hours=1))))


@described_sensor(jobs=[sre_metrics_job, session_concurrency_job], minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.RUNNING)
def sre_metrics_restatement_sensor(context: dg.SensorEvaluationContext,
                                   warehouse: WarehouseResource) -> dg.SensorResult:
    """After new `raw_usage_events` materializations, restates `sre_metrics_job` over the event
    hours they touched (their `event_hours` metadata, late events included) whose metrics lag the
    events the ingest ledger holds, and `session_concurrency_job` over those hours and the day
    either side of them."""
    touched = raw_event_hours_touched(context.instance, context.cursor)
    if touched is None:
        return dg.SensorResult()
    with warehouse.connect() as conn:
        hours = {hour.strftime(HOUR_KEY_FORMAT) for hour in stale_sre_hours(conn, touched.hours)}
    last = touched.last_storage_id
    requests = [dg.RunRequest(run_key=f"{last}:{sre_metrics_job.name}:{first}:{final}", job_name=sre_metrics_job.name,
                              tags=range_tags(first, final))
                for first, final in contiguous_ranges(hours, hourly_partitions)]
    reached: set[str] = set()
    for first, final in contiguous_ranges(hours, hourly_partitions):
        start, end = restatement_reach(_hour(first), _hour(final))
        reached |= _hours_between(start, end)
    requests += [dg.RunRequest(run_key=f"{last}:{session_concurrency_job.name}:{first}:{final}",
                               job_name=session_concurrency_job.name, tags=range_tags(first, final))
                 for first, final in contiguous_ranges(reached, hourly_partitions)]
    return dg.SensorResult(run_requests=requests, cursor=str(last))
