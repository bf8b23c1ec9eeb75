"""``monthly_usage_exports``: one finance CSV (and manifest) per organization per month."""

from datetime import UTC, datetime
from decimal import Decimal

import dagster as dg

from analytics_pipeline.defs.resources import ClockResource, ObjectStorageResource, WarehouseResource
from analytics_pipeline.defs.shared import (
    check_each_partition,
    daily_partitions,
    markdown_table,
    monthly_partitions,
    partition_figures,
    partition_windows,
    window_metadata,
)
from analytics_pipeline.exports.export_jobs import ExportRequest, record_scheduled_export, scheduled_job_id
from analytics_pipeline.exports.reconciliation import expected_totals_by_organization
from analytics_pipeline.exports.usage_csv import ExportGranularity, query_export_rows, rows_by_organization
from analytics_pipeline.exports.writer import ExportDoesNotReconcile, monthly_export_target, write_export

DAILY_ROLLUPS = dg.AssetKey("daily_usage_rollups")
EXPORTS_RECONCILE = "exports_reconcile_with_rollups"
SCHEDULE_TAG = "dagster/schedule_name"


def _rollup_lineage(context: dg.AssetExecutionContext) -> list[dict]:
    """The latest daily-rollup materialization of each day the export read (its run and time)."""
    keys = daily_partitions.get_partition_keys_in_time_window(context.partition_time_window)
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=DAILY_ROLLUPS, asset_partitions=keys), limit=len(keys) * 4
    ).records
    latest: dict[str, dg.EventLogRecord] = {}
    for record in records:
        partition = record.partition_key
        if partition and (partition not in latest or record.storage_id > latest[partition].storage_id):
            latest[partition] = record
    return [
        {"asset": "daily_usage_rollups", "partition": p, "run_id": r.run_id,
         "materialized_at": datetime.fromtimestamp(r.timestamp, UTC).isoformat()}
        for p, r in sorted(latest.items())
    ]


@dg.asset(
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[DAILY_ROLLUPS],
    check_specs=[dg.AssetCheckSpec(
        EXPORTS_RECONCILE, asset="monthly_usage_exports",
        description="Each CSV (made from the daily rollups) has column totals equal to the hourly rollups "
                    "of its organization and month, an independent path, within 1% (in practice: exact up to "
                    "rounding each row's cost to 4 decimals); a CSV that does not is not written.")],
    kinds={"postgres", "s3", "csv"},
    group_name="exports",
    owners=["team:data-engineering"],
)
def monthly_usage_exports(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                          object_storage: ObjectStorageResource, clock: ClockResource):
    """Finance exports: for every organization with usage in the month, a daily-granularity
    CSV (`bucket_start, organization_id, model_id, request_count, tokens_total, error_count,
    cost_total`) and a JSON manifest beside it (sha256 checksum, row count, column totals,
    time range, the rollup materializations it was made from), under
    `ANALYTICS_EXPORTS_URL/monthly/YYYY-MM/<organization>/`. Each CSV is reconciled against the
    hourly rollups before it is written, and gets a succeeded job row in `analytics_export_jobs`
    (initiated by `schedule`; one per organization and month, refreshed on re-materialization),
    so the export API lists it and serves its download. One run covers every organization; a
    backfill of several months is one run too, each month with its own figures (an
    `exports` table per organization) and its own reconciliation result."""
    store = object_storage.exports()
    lineage = _rollup_lineage(context)
    generated_at = clock.now()
    initiated_by = "schedule" if context.run.tags.get(SCHEDULE_TAG) else "dagster"
    figures, verdicts = {}, {}
    for month, window in partition_windows(context, monthly_partitions):
        sources = [s for s in lineage if window.start.strftime("%Y-%m") in s["partition"]]
        written_exports, failures, worst_relative = [], [], Decimal(0)
        with warehouse.connect() as conn:
            expected = expected_totals_by_organization(conn, ExportGranularity.DAILY, window.start, window.end)
            rows = query_export_rows(conn, granularity=ExportGranularity.DAILY, range_start=window.start,
                                     range_end=window.end, organization_id=None, by_model=True)
            checked = 0
            for organization_id, org_rows in rows_by_organization(rows):
                target = monthly_export_target(window.start, window.end, organization_id)
                checked += 1
                try:
                    written = write_export(store, target, org_rows, expected.pop(organization_id),
                                           generated_at=generated_at, sources=sources)
                except ExportDoesNotReconcile as error:
                    failures.append(f"{organization_id}: {error.reconciliation.differences}")
                    worst_relative = max(worst_relative, *error.reconciliation.relative.values())
                    continue
                worst_relative = max(worst_relative, *written.reconciliation.relative.values())
                written_exports.append(written)
            failures += [f"{org}: in the rollups but not exported" for org in expected]
            for written in written_exports:  # the rows' cursor is done: one job row per file
                target = written.target
                request = ExportRequest(target.organization_id, target.start, target.end, target.granularity,
                                        target.by_model, initiated_by,
                                        scheduled_job_id(target.organization_id, target.start, target.granularity))
                record_scheduled_export(conn, request, output_key=target.csv_key,
                                        output_uri=store.object_url(target.csv_key), checksum=written.checksum,
                                        row_count=written.totals.row_count, at=generated_at, run_id=context.run.run_id)
        context.log.info(f"{month}: exports written under {store.url.rstrip('/')}/monthly/{window.start:%Y-%m}/")
        figures[month] = _month_figures(window, written_exports, store.url)
        verdicts[month] = dg.AssetCheckResult(
            check_name=EXPORTS_RECONCILE, passed=not failures,
            description=(f"{len(failures)} of {checked} organization(s) not exported" if failures
                         else f"all {checked} organization(s) reconcile with the hourly rollups"),
            metadata={**window_metadata(window), "organizations_checked": checked, "failures": len(failures),
                      "max_relative_difference": float(worst_relative),
                      **({"first_failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in failures[:20]))}
                         if failures else {})})
    partition_figures(context, figures)
    yield dg.MaterializeResult()
    yield from check_each_partition(context, monthly_partitions, lambda month, _: verdicts[month])


def _month_figures(window: dg.TimeWindow, written: list, location: str) -> dict[str, object]:
    """A month's exports: totals (cost as a number, so it plots) and one row per organization."""
    totals = [w.totals for w in written]
    cost = sum((t.cost_total for t in totals), Decimal(0))
    return {
        **window_metadata(window),
        "organizations": len(written),
        "files_written": 2 * len(written),
        "dagster/row_count": sum(t.row_count for t in totals),
        "request_count": sum(t.request_count for t in totals),
        "cost_total": float(cost),
        "location": dg.MetadataValue.path(location),
        "exports": markdown_table(
            ["organization", "rows", "requests", "tokens", "errors", "cost", "csv"],
            [[w.target.organization_id, w.totals.row_count, w.totals.request_count, w.totals.tokens_total,
              w.totals.error_count, w.totals.cost_total, w.target.csv_key] for w in written]),
    }
