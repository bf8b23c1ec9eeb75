"""``raw_usage_events``: log objects from object storage, loaded exactly once into PostgreSQL."""

from datetime import datetime, timedelta

import dagster as dg

from analytics_pipeline.defs.resources import ClockResource, ObjectStorageResource, RetentionSettings, WarehouseResource
from analytics_pipeline.defs.shared import (
    HOUR_KEY_FORMAT,
    NETWORK_RETRY,
    hourly_partitions,
    partition_figures,
    window_metadata,
)
from analytics_pipeline.delivery.prefixes import delivery_hour_of
from analytics_pipeline.ingestion.batch import IngestSummary, ingest_all, objects_delivered_between
from analytics_pipeline.ingestion.contract import EventValidator
from analytics_pipeline.ingestion.loader import USAGE_LOGS_SOURCE, ObjectLoader
from analytics_pipeline.settings import current_settings
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline.warehouse.sql import load_sql

# Warn after an hour without new data, fail after two (ANALYTICS_RAW_FRESHNESS_*_MINUTES): the
# thresholds of `raw_events_are_fresh`, which grades the data. Deliberately not the asset's
# `freshness_policy`: Dagster grades a policy on when the asset last ran, so after a backfill of old
# hours (the demo's month) the policy said "Passing" while the data was weeks old and the check
# failed. One freshness per asset, the one that reads the data. Read when the definitions load.
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
    included) are reported so their rollups can be restated. Each delivery hour's
    materialization carries that hour's own figures (a single-run range too: see
    `partition_figures`), and `dagster/row_count`, the events the ledger holds for the hour.
    """
    store = object_storage.logs()
    window = context.partition_time_window
    if config.object_keys:
        objects = [obj for key in config.object_keys if (obj := store.head(key)) is not None]
    else:
        objects = list(objects_delivered_between(store, window.start, window.end))
    hour_of_object = {obj.key: delivery_hour_of(obj).strftime(HOUR_KEY_FORMAT) for obj in objects}
    by_hour = {hour: IngestSummary() for hour in context.partition_keys}

    now = clock.now()
    validator = EventValidator(now=now, retention_days=retention_settings.raw_retention_days)
    # Two loading connections: one group of objects is claimed and inserted on one while the
    # next is decoded and staged on the other (see ObjectLoader).
    with warehouse.connect() as conn, warehouse.connect() as second_conn, \
            connect(warehouse.url(), autocommit=True) as ddl_conn:
        loader = ObjectLoader(conn, ddl_conn, validator, run_id=context.run.run_id, second_conn=second_conn)

        def log_result(result) -> None:
            hour = hour_of_object.get(result.object_key)
            if hour in by_hour:
                by_hour[hour].add(result)
            if result.status == "failed":
                context.log.warning(f"{result.object_key}: failed: {result.failure_reason}")
            elif result.damage:
                context.log.warning(f"{result.object_key}: damaged: {result.damage}")

        summary = ingest_all(loader, store, objects, on_result=log_result)
        stored = dict(conn.execute(load_sql("ingestion/stored_events_by_delivery_hour"), {
            "source": USAGE_LOGS_SOURCE, "range_start": window.start, "range_end": window.end}).fetchall())

    context.log.info(
        f"{summary.objects_loaded} objects loaded, {summary.objects_skipped} already ingested, "
        f"{summary.objects_failed} failed; {summary.lines_read} lines: {summary.accepted} accepted, "
        f"{summary.duplicates} duplicates, {summary.quarantined} quarantined"
    )
    partition_figures(context, {
        hour: {**window_metadata(hourly_partitions.time_window_for_partition_key(hour)),
               **_figures(hour_summary, now),
               "dagster/row_count": stored.get(hourly_partitions.time_window_for_partition_key(hour).start, 0)}
        for hour, hour_summary in by_hour.items()}, run_totals=_figures(summary, now))
    return dg.MaterializeResult()


def _figures(summary: IngestSummary, now: datetime) -> dict[str, object]:
    """What a data engineer reads of a load: objects, every line's outcome, late events, lag."""
    figures = {
        "objects_loaded": summary.objects_loaded,
        "objects_skipped": summary.objects_skipped,
        "objects_failed": summary.objects_failed,
        "lines_read": summary.lines_read,
        "accepted": summary.accepted,
        "duplicates": summary.duplicates,
        "quarantined": summary.quarantined,
        "quarantine_rate": round(summary.quarantined / summary.lines_read, 6) if summary.lines_read else 0.0,
        "late_events": summary.late_events,
        "quarantine_reasons": dict(summary.quarantine_reasons),
        "event_hours": sorted(h.strftime(HOUR_KEY_FORMAT) for h in summary.event_hours),
        "failed_objects": summary.failures[:50],
        "damaged_objects": summary.damaged[:50],
    }
    if summary.newest_event_time is not None:
        figures["lag_seconds"] = round((now - summary.newest_event_time).total_seconds(), 1)
    return figures
