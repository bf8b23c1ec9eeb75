"""``usage_rollup_restatement_sensor``: rollups follow the event hours that ingestion touched."""

import json

import dagster as dg

from analytics_pipeline.defs.ingestion.assets import raw_usage_events
from analytics_pipeline.defs.partitions import daily_partitions, hourly_partitions
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
    jobs=[hourly_rollups_job, daily_rollups_job],
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def usage_rollup_restatement_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """Restates the rollups of every event hour that new `raw_usage_events` materializations
    touched (their `event_hours` metadata), late events included: one single-run range per
    stretch of consecutive hours for `hourly_usage_rollups`, and likewise per day for
    `daily_usage_rollups`. The cursor is the last materialization's storage id."""
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
    days = {hour[:10] for hour in hours}
    last = result.records[-1].storage_id
    requests = []
    for job, partitions_def, keys in ((hourly_rollups_job, hourly_partitions, hours),
                                      (daily_rollups_job, daily_partitions, days)):
        for first, final in contiguous_ranges(sorted(keys), partitions_def):
            requests.append(dg.RunRequest(
                run_key=f"{last}:{job.name}:{first}:{final}",
                job_name=job.name,
                tags={RANGE_START_TAG: first, RANGE_END_TAG: final},
            ))
    return dg.SensorResult(run_requests=requests, cursor=str(last))
