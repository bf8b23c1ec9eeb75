"""The metrics follow the data they are computed from.

``daily_metrics_follow_rollups_sensor`` restates the daily metrics of the days whose daily
rollups were materialized (the activity check compares the two, so a day's metrics wait for its
rollups); ``sre_metrics_restatement_sensor`` restates the hourly SRE metrics of every event
hour that new raw events fell in, and the session concurrency of the hours a day either side of
them (a session's span reaches that far). Both keep the storage id of the last materialization
they handled as their cursor and request one single-run range per stretch of partitions.
"""

import json
from datetime import UTC, datetime, timedelta

import dagster as dg

from analytics_pipeline.defs.metrics.jobs import daily_metrics_job, session_concurrency_job, sre_metrics_job
from analytics_pipeline.defs.shared import HOUR_KEY_FORMAT, daily_partitions, hourly_partitions, range_tags
from analytics_pipeline.metrics.sre import restatement_reach

RAW_USAGE_EVENTS = dg.AssetKey("raw_usage_events")
DAILY_USAGE_ROLLUPS = dg.AssetKey("daily_usage_rollups")
BATCH = 200


def contiguous_ranges(keys: set[str], partitions_def: dg.TimeWindowPartitionsDefinition) -> list[tuple[str, str]]:
    """Partition keys grouped into runs of consecutive partitions: [(first, last), ...]."""
    ranges: list[tuple[str, str]] = []
    for key in sorted(k for k in keys if partitions_def.has_partition_key(k)):
        if ranges and partitions_def.get_next_partition_key(ranges[-1][1]) == key:
            ranges[-1] = (ranges[-1][0], key)
        else:
            ranges.append((key, key))
    return ranges


@dg.sensor(jobs=[daily_metrics_job], minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def daily_metrics_follow_rollups_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """After new `daily_usage_rollups` materializations (a day, or a restated day), runs
    `daily_metrics_job` over the same days: one single-run range per stretch of days."""
    after = int(context.cursor) if context.cursor else None
    result = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=DAILY_USAGE_ROLLUPS, after_storage_id=after), limit=BATCH, ascending=True)
    if not result.records:
        return dg.SensorResult()
    days = {record.partition_key for record in result.records if record.partition_key}
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


@dg.sensor(jobs=[sre_metrics_job, session_concurrency_job], minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.RUNNING)
def sre_metrics_restatement_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """After new `raw_usage_events` materializations, restates `sre_metrics_job` over the event
    hours they touched (their `event_hours` metadata, late events included) and
    `session_concurrency_job` over those hours and the day either side of them."""
    after = int(context.cursor) if context.cursor else None
    result = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=RAW_USAGE_EVENTS, after_storage_id=after), limit=BATCH, ascending=True)
    if not result.records:
        return dg.SensorResult()
    hours: set[str] = set()
    for record in result.records:
        entry = record.asset_materialization.metadata.get("event_hours")
        if entry is not None:
            hours.update(entry.value if isinstance(entry.value, list) else json.loads(entry.value))
    last = result.records[-1].storage_id
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
