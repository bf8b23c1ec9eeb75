"""``raw_usage_events``: log objects from object storage, loaded exactly once into PostgreSQL."""

from datetime import timedelta

import dagster as dg

from analytics_pipeline.defs.resources import ClockResource, ObjectStorageResource, RetentionSettings, WarehouseResource
from analytics_pipeline.defs.shared import NETWORK_RETRY, hourly_partitions, window_metadata
from analytics_pipeline.ingestion.batch import ingest_all, objects_delivered_between
from analytics_pipeline.ingestion.contract import EventValidator
from analytics_pipeline.ingestion.loader import ObjectLoader
from analytics_pipeline.settings import current_settings
from analytics_pipeline.warehouse.database import connect

# Warn after an hour without new data, fail after two (ANALYTICS_RAW_FRESHNESS_*_MINUTES): part
# of the definitions, so read when they load.
RAW_FRESHNESS = dg.FreshnessPolicy.time_window(
    warn_window=timedelta(minutes=current_settings().raw_freshness_warn_minutes),
    fail_window=timedelta(minutes=current_settings().raw_freshness_fail_minutes),
)


class RawUsageEventsConfig(dg.Config):
    """Which objects to load. Empty: every object delivered in the partitions' hours."""

    object_keys: list[str] = []


@dg.asset(
    partitions_def=hourly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=NETWORK_RETRY,
    freshness_policy=RAW_FRESHNESS,
    kinds={"s3", "postgres"},
    group_name="usage",
    owners=["team:data-engineering"],
)
def raw_usage_events(
    context: dg.AssetExecutionContext,
    config: RawUsageEventsConfig,
    warehouse: WarehouseResource,
    object_storage: ObjectStorageResource,
    retention_settings: RetentionSettings,
    clock: ClockResource,
) -> dg.MaterializeResult:
    """Raw usage events (`analytics_events`), one row per accepted event, partitioned by the
    hour the log objects were *delivered* (their `YYYY/MM/DD/HH/` key prefix).

    Every line read ends as exactly one of accepted, duplicate (same customer_id and
    request_id, same content) or quarantined with a reason (`analytics_quarantine`). The
    ingest ledger (`analytics_ingested_objects`, key + etag) makes each object load once;
    events are stored by their own event time, and the event hours touched (late data
    included) are reported so their rollups can be restated. A run of one delivery hour (what
    the sensor launches) reports that hour's figures; a single-run range reports the run's,
    named `run_*`, on each of its hours.
    """
    store = object_storage.logs()
    window = context.partition_time_window
    if config.object_keys:
        objects = [obj for key in config.object_keys if (obj := store.head(key)) is not None]
    else:
        objects = objects_delivered_between(store, window.start, window.end)

    now = clock.now()
    validator = EventValidator(now=now, retention_days=retention_settings.raw_retention_days)
    # Two loading connections: one group of objects is claimed and inserted on one while the
    # next is decoded and staged on the other (see ObjectLoader).
    with warehouse.connect() as conn, warehouse.connect() as second_conn, \
            connect(warehouse.url(), autocommit=True) as ddl_conn:
        loader = ObjectLoader(conn, ddl_conn, validator, run_id=context.run.run_id, second_conn=second_conn)

        def log_result(result) -> None:
            if result.status == "failed":
                context.log.warning(f"{result.object_key}: failed: {result.failure_reason}")
            elif result.damage:
                context.log.warning(f"{result.object_key}: damaged: {result.damage}")

        summary = ingest_all(loader, store, objects, on_result=log_result)

    lag_seconds = (
        (now - summary.newest_event_time).total_seconds() if summary.newest_event_time else None
    )
    context.log.info(
        f"{summary.objects_loaded} objects loaded, {summary.objects_skipped} already ingested, "
        f"{summary.objects_failed} failed; {summary.lines_read} lines: {summary.accepted} accepted, "
        f"{summary.duplicates} duplicates, {summary.quarantined} quarantined"
    )
    figures = {
        "objects_loaded": summary.objects_loaded,
        "objects_skipped": summary.objects_skipped,
        "objects_failed": summary.objects_failed,
        "lines_read": summary.lines_read,
        "accepted": summary.accepted,
        "duplicates": summary.duplicates,
        "quarantined": summary.quarantined,
        "late_events": summary.late_events,
    }
    if lag_seconds is not None:
        figures["lag_seconds"] = round(lag_seconds, 1)
    hours = context.partition_keys
    if len(hours) > 1:
        # Dagster stores a single run's metadata on every partition of its range; named run_*,
        # the run's totals never pass for one hour's figures (nor plot as one).
        figures = {f"run_{name}": value for name, value in figures.items()}
        figures["figures_cover"] = (f"the whole run: {len(hours)} delivery hours, {hours[0]} to {hours[-1]} "
                                    "(a single run's metadata is recorded on each of its partitions)")
    return dg.MaterializeResult(metadata={
        **window_metadata(window),
        **figures,
        "quarantine_reasons": dict(summary.quarantine_reasons),
        "event_hours": sorted(h.strftime("%Y-%m-%d-%H:%M") for h in summary.event_hours),
        "failed_objects": summary.failures[:50],
        "damaged_objects": summary.damaged[:50],
    })
