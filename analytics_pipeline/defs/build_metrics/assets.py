"""``ci_build_runs`` (CI run files loaded exactly once) and ``ci_duration_trends``."""

import functools

import dagster as dg

from analytics_pipeline.build_metrics.loader import (
    BUILD_METRICS_SOURCE,
    RunFileLoader,
    RunFileResult,
    load_run_files,
    run_files_between,
)
from analytics_pipeline.build_metrics.trends import replace_duration_trends
from analytics_pipeline.defs.resources import ClockResource, ObjectStorageResource, WarehouseResource
from analytics_pipeline.defs.shared import NETWORK_RETRY, daily_partitions, markdown_table, single_run_asset
from analytics_pipeline.defs.tables import Figure, table_partition_result
from analytics_pipeline.delivery.discovery import known_objects_since

GROUP = "build_telemetry"
OWNERS = ["team:data-engineering"]
_build_asset = functools.partial(single_run_asset, group_name=GROUP, owners=OWNERS)


class CiBuildRunsConfig(dg.Config):
    """Which run files to load. Empty: every file dated in the partitions' days."""

    object_keys: list[str] = []


@_build_asset(daily_partitions, retry_policy=NETWORK_RETRY, kinds=("s3", "postgres"))
def ci_build_runs(
    context: dg.AssetExecutionContext,
    config: CiBuildRunsConfig,
    warehouse: WarehouseResource,
    object_storage: ObjectStorageResource,
    clock: ClockResource,
) -> dg.MaterializeResult:
    """CI runs (`analytics_ci_runs`), one row per run_id, from the JSON run files under
    `ANALYTICS_BUILD_METRICS_URL`, partitioned by the day in their key (`metrics/YYYY/MM/DD/`).

    Each file is loaded exactly once (the shared ingest ledger `analytics_ingested_objects`,
    source `build_metrics`, key + etag) in one transaction and ends as exactly one of accepted,
    duplicate (a run_id already loaded with the same content) or quarantined with a reason in
    `analytics_quarantine` (invalid JSON, missing fields, finished before started, a duration
    that disagrees with the timestamps, a bad status, a run_id already loaded with different
    content...). Unknown fields are kept in `attributes`. The actor's email is stored for
    audits only: use `analytics_ci_runs_redacted` (actor_hash) for anything shared.
    """
    store = object_storage.build_metrics()
    window = context.partition_time_window
    missing = []
    if config.object_keys:
        objects = []
        for key in config.object_keys:
            obj = store.head(key)
            if obj is None:
                missing.append(key)
            else:
                objects.append(obj)
    else:
        objects = run_files_between(store, window.start, window.end)
    for key in missing:
        context.log.warning(f"{key}: no longer in {store.url}, skipped")

    def log_result(result: RunFileResult) -> None:
        if result.outcome == "quarantined":
            context.log.warning(f"{result.object_key}: quarantined as {result.reason}: {result.detail}")

    with warehouse.connect() as conn:
        # The ledger rows of the window's files are dated by the files' days (delivery_hour).
        known = known_objects_since(conn, BUILD_METRICS_SOURCE, window.start)
        loader = RunFileLoader(conn, run_id=context.run.run_id)
        summary = load_run_files(loader, store, objects, on_result=log_result, known=known)

    context.log.info(
        f"{summary.files_loaded} run files loaded, {summary.files_skipped} already ingested: "
        f"{summary.accepted} runs accepted, {summary.duplicates} duplicates, {summary.quarantined} quarantined"
    )
    metadata = {
        "files_loaded": summary.files_loaded,
        "files_skipped": summary.files_skipped,
        "files_missing": len(missing),
        "runs_accepted": summary.accepted,
        "duplicates": summary.duplicates,
        "quarantined": summary.quarantined,
        "quarantine_reasons": dict(summary.quarantine_reasons),
        "services": len(summary.services),
        "location": dg.MetadataValue.path(store.url),
    }
    if summary.newest_finished_at is not None:
        metadata["lag_seconds"] = round((clock.now() - summary.newest_finished_at).total_seconds(), 1)
    # Each day's own figures: the runs its files hold in the table, however many loads brought them.
    return table_partition_result(context, warehouse, daily_partitions, "file_date", {
        "mean_duration_seconds": Figure("avg", "duration_seconds"),
        "max_duration_seconds": Figure("max", "duration_seconds"),
    }, metadata)


@_build_asset(daily_partitions, deps=[ci_build_runs])
def ci_duration_trends(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Daily CI trends per service and command (`analytics_ci_duration_trends`): runs, success
    rate, and the p50/p95/max duration of the successful runs, by the day of the run files.
    A day (or a backfill range) is replaced in one transaction. Each day's materialization
    carries that day's runs and successful runs; a one-day run also reports each service and
    command's figures as numeric metadata, so the UI plots their trend day by day (a range
    logs them once)."""
    window = context.partition_time_window
    with warehouse.connect() as conn:
        summary = replace_duration_trends(conn, window.start.date(), window.end.date())
    metadata: dict = {
        "services": summary.services,
        "runs": summary.runs,
        "successful_runs": summary.successful_runs,
        "success_rate": round(summary.successful_runs / summary.runs, 4) if summary.runs else None,
    }
    for trend in summary.trends:
        series = f"{trend.service} / {trend.command}"
        metadata[f"{series} / success_rate"] = round(trend.success_rate, 4)
        if trend.duration_p50_seconds is not None:
            metadata[f"{series} / duration_p50_seconds"] = round(trend.duration_p50_seconds, 2)
            metadata[f"{series} / duration_p95_seconds"] = round(trend.duration_p95_seconds, 2)
    if summary.trends:
        metadata["trends"] = markdown_table(
            ["service", "command", "runs", "success rate", "p50 s", "p95 s", "max s", "commits"],
            [[t.service, t.command, t.runs, f"{t.success_rate:.1%}",
              *(None if v is None else round(v, 1)
                for v in (t.duration_p50_seconds, t.duration_p95_seconds, t.duration_max_seconds)), t.commits]
             for t in summary.trends])
    return table_partition_result(context, warehouse, daily_partitions, "day", {
        "runs": Figure("sum", "runs"), "successful_runs": Figure("sum", "successful_runs"),
    }, {k: v for k, v in metadata.items() if v is not None})
