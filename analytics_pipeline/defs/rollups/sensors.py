"""Rollups follow the event hours that ingestion touched, and the days follow their hours.

``usage_rollup_restatement_sensor`` restates the hourly rollups of the hours new raw events
fell in; ``daily_rollups_follow_hours_sensor`` restates the days of an hourly run once it has
succeeded, because the daily rows add up the day's hourly rows (run at the same time, a day
could read hours from before the late events).
"""

import json

import dagster as dg

from analytics_pipeline.defs.ingestion.assets import raw_usage_events
from analytics_pipeline.defs.partitions import hourly_partitions
from analytics_pipeline.defs.rollups.assets import (
    daily_usage_rollups,
    endpoint_performance_rollups,
    hourly_usage_rollups,
)

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"

# One job per partitioning: a run (and so a single-run range) covers one partitions definition.
hourly_rollups_job = dg.define_asset_job(
    "hourly_rollups_job", selection=[hourly_usage_rollups],
    description="Recompute hourly usage rollups (and their reconciliation check) for a range of hours.")
daily_rollups_job = dg.define_asset_job(
    "daily_rollups_job", selection=[daily_usage_rollups, endpoint_performance_rollups],
    description="Recompute the daily usage and endpoint performance rollups (and checks) for a range of days.")


def contiguous_ranges(keys: list[str], partitions_def) -> list[tuple[str, str]]:
    """Group partition keys into runs of consecutive partitions: [(first, last), ...]."""
    all_keys = [k for k in sorted(set(keys)) if partitions_def.has_partition_key(k)]
    ranges: list[tuple[str, str]] = []
    for key in all_keys:
        if ranges and partitions_def.get_next_partition_key(ranges[-1][1]) == key:
            ranges[-1] = (ranges[-1][0], key)
        else:
            ranges.append((key, key))
    return ranges


@dg.sensor(
    jobs=[hourly_rollups_job],
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def usage_rollup_restatement_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """Restates the hourly rollups of every event hour that new `raw_usage_events`
    materializations touched (their `event_hours` metadata), late events included: one
    single-run range per stretch of consecutive hours. The days follow once those runs
    succeed (`daily_rollups_follow_hours_sensor`). The cursor is the last materialization's
    storage id."""
    after = int(context.cursor) if context.cursor else None
    result = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=raw_usage_events.key, after_storage_id=after), limit=200, ascending=True)
    if not result.records:
        return dg.SensorResult()
    hours: set[str] = set()
    for record in result.records:
        entry = record.asset_materialization.metadata.get("event_hours")
        if entry is not None:
            hours.update(entry.value if isinstance(entry.value, list) else json.loads(entry.value))
    last = result.records[-1].storage_id
    requests = [
        dg.RunRequest(run_key=f"{last}:{hourly_rollups_job.name}:{first}:{final}", job_name=hourly_rollups_job.name,
                      tags={RANGE_START_TAG: first, RANGE_END_TAG: final})
        for first, final in contiguous_ranges(sorted(hours), hourly_partitions)
    ]
    return dg.SensorResult(run_requests=requests, cursor=str(last))


def days_of_hourly_run(tags: dict[str, str]) -> tuple[str, str] | None:
    """The first and last daily partition key covered by an hourly run's partition tags."""
    first = tags.get(RANGE_START_TAG) or tags.get("dagster/partition")
    final = tags.get(RANGE_END_TAG) or tags.get("dagster/partition")
    if not first or not final:
        return None
    return first[:10], final[:10]


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[hourly_rollups_job],
    request_job=daily_rollups_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def daily_rollups_follow_hours_sensor(context: dg.RunStatusSensorContext):
    """When an `hourly_rollups_job` run succeeds (its blocking reconciliation check passed),
    restates the daily usage and endpoint rollups of the days it covered, as one single-run
    range. Daily additive measures are sums of the hourly rows, so a day waits for its hours."""
    days = days_of_hourly_run(context.dagster_run.tags)
    if days is None:
        return dg.SkipReason(f"run {context.dagster_run.run_id} has no partition tags")
    first, final = days
    return dg.RunRequest(run_key=f"{context.dagster_run.run_id}:days", tags={RANGE_START_TAG: first,
                                                                         RANGE_END_TAG: final})
