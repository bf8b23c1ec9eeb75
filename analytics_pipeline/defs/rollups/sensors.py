"""Rollups follow the event hours that ingestion touched, the days follow their hours, and the
price catalog is loaded when it is missing or changed.

``usage_rollup_restatement_sensor`` restates the hourly rollups of the hours new raw events
fell in (``live_ingestion_restatement_sensor`` those the live paths' batches fell in);
``daily_rollups_follow_hours_sensor`` restates the days of an hourly run once it has
succeeded, because the daily rows add up the day's hourly rows (run at the same time, a day
could read hours from before the late events).
"""


from datetime import timedelta

import dagster as dg

from analytics_pipeline.defs.resources import ClockResource, WarehouseResource
from analytics_pipeline.defs.rollups.assets import CATALOG_DIGEST, model_prices
from analytics_pipeline.defs.rollups.jobs import daily_rollups_job, hourly_rollups_job, model_prices_job
from analytics_pipeline.defs.rollups.resources import RollupSettings
from analytics_pipeline.defs.shared import (
    HOUR_KEY_FORMAT,
    PARTITION_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
    contiguous_ranges,
    described_sensor,
    hourly_partitions,
    range_tags,
    raw_event_hours_touched,
)
from analytics_pipeline.ingestion.live import live_event_hours_since
from analytics_pipeline.rollups.pricing import catalog_digest, read_catalog_text
from analytics_pipeline.rollups.usage import stale_hours


@described_sensor(
    jobs=[hourly_rollups_job],
    # A tick reads the new materializations and one indexed query: every 15 s, a loaded hour's
    # rollup follows its ingest run within seconds rather than a minute.
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def usage_rollup_restatement_sensor(context: dg.SensorEvaluationContext,
                                    warehouse: WarehouseResource) -> dg.SensorResult:
    """Restates the hourly rollups of the event hours that new `raw_usage_events`
    materializations touched (their `event_hours` metadata, late events included), but only
    those whose rollups lag their events: the warehouse compares each hour's rollup requests with
    the events the ingest ledger says were added to it, so hours already rolled up (a backfill
    that rolled them up in the same run, a re-run that loaded nothing) request nothing. One
    single-run range per stretch of consecutive stale hours; the days follow once those runs
    succeed (`daily_rollups_follow_hours_sensor`). The cursor is the last materialization's
    storage id."""
    touched = raw_event_hours_touched(context.instance, context.cursor)
    if touched is None:
        return dg.SensorResult()
    last = touched.last_storage_id
    with warehouse.connect() as conn:
        stale = [hour.strftime(HOUR_KEY_FORMAT) for hour in stale_hours(conn, touched.hours)]
    requests = [
        dg.RunRequest(run_key=f"{last}:{hourly_rollups_job.name}:{first}:{final}", job_name=hourly_rollups_job.name,
                      tags=range_tags(first, final))
        for first, final in contiguous_ranges(stale, hourly_partitions)
    ]
    context.log.info(f"{touched.materializations} new raw materialization(s) touched {len(touched.hours)} hour(s); "
                     f"{len(stale)} lag their events")
    return dg.SensorResult(run_requests=requests, cursor=str(last))


#: How far back the live sensor looks for batches of the live paths (by the hour they arrived).
LIVE_LOOKBACK = timedelta(hours=3)


@described_sensor(
    jobs=[hourly_rollups_job],
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def live_ingestion_restatement_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource,
                                      clock: ClockResource) -> dg.SensorResult | dg.SkipReason:
    """Restates the hourly rollups of the hours that the live paths (ingest API, Firehose, Kinesis
    consumer: no Dagster runs of their own) added events to in the last 3 hours, the open hour
    included, when those hours' rollups lag the ingest ledger, as
    `usage_rollup_restatement_sensor` does for loaded objects (meanwhile `/usage` and the portal
    serve those hours live, marked provisional). The run key carries the newest ledger entry,
    so a tick repeats no request."""
    with warehouse.connect() as conn:
        hours, last = live_event_hours_since(conn, clock.now() - LIVE_LOOKBACK)
        known = [hour for hour in hours if hourly_partitions.has_partition_key(hour.strftime(HOUR_KEY_FORMAT))]
        stale = [hour.strftime(HOUR_KEY_FORMAT) for hour in stale_hours(conn, known)] if known else []
    if not stale:
        return dg.SkipReason(f"{len(hours)} hour(s) touched by live batches; none lagging")
    return dg.SensorResult(run_requests=[
        dg.RunRequest(run_key=f"live:{last}:{hourly_rollups_job.name}:{first}:{final}",
                      job_name=hourly_rollups_job.name, tags=range_tags(first, final))
        for first, final in contiguous_ranges(stale, hourly_partitions)])


def days_of_hourly_run(tags: dict[str, str]) -> tuple[str, str] | None:
    """The first and last daily partition key covered by an hourly run's partition tags."""
    first = tags.get(RANGE_START_TAG) or tags.get(PARTITION_TAG)
    final = tags.get(RANGE_END_TAG) or tags.get(PARTITION_TAG)
    if not first or not final:
        return None
    return first[:10], final[:10]


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[hourly_rollups_job],
    request_job=daily_rollups_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When an `hourly_rollups_job` run succeeds (its blocking reconciliation check passed), restates "
                "the daily usage and endpoint rollups of the days it covered, as one single-run range.",
)
def daily_rollups_follow_hours_sensor(context: dg.RunStatusSensorContext):
    """When an `hourly_rollups_job` run succeeds (its blocking reconciliation check passed),
    restates the daily usage and endpoint rollups of the days it covered, as one single-run
    range. Daily additive measures are sums of the hourly rows, so a day waits for its hours."""
    days = days_of_hourly_run(context.dagster_run.tags)
    if days is None:
        return dg.SkipReason(f"run {context.dagster_run.run_id} has no partition tags")
    first, final = days
    return dg.RunRequest(run_key=f"{context.dagster_run.run_id}:days", tags=range_tags(first, final))


@described_sensor(job=model_prices_job, minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.RUNNING)
def price_catalog_sensor(context: dg.SensorEvaluationContext, rollup_settings: RollupSettings):
    """Loads the price catalog (`model_prices`) when it has never been loaded (a new deployment:
    the hourly rollups refuse to price events without it) and whenever the catalog's content
    (`ANALYTICS_PRICE_CATALOG`, or the shipped CSV) differs from what the last load read. Reads the
    catalog every 5 minutes; the run key is the content's sha256, so one version loads once."""
    digest = catalog_digest(read_catalog_text(rollup_settings.price_catalog))
    latest = context.instance.get_latest_materialization_event(model_prices.key)
    materialization = latest.asset_materialization if latest else None
    loaded = materialization.metadata.get(CATALOG_DIGEST) if materialization else None
    if loaded is not None and loaded.value == digest:
        return dg.SkipReason(f"the catalog loaded is the current one (sha256 {digest[:12]})")
    return dg.RunRequest(run_key=f"price-catalog-{digest}")
