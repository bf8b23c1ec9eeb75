"""``monthly_usage_exports``: one finance CSV (and manifest) per organization per month."""

from datetime import UTC, datetime
from decimal import Decimal

import dagster as dg

from analytics_pipeline.defs.resources import ClockResource, ObjectStorageResource, WarehouseResource
from analytics_pipeline.defs.shared import daily_partitions, monthly_partitions
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
                          object_storage: ObjectStorageResource, clock: ClockResource) -> dg.MaterializeResult:
    """Finance exports: for every organization with usage in the month, a daily-granularity
    CSV (`bucket_start, organization_id, model_id, request_count, tokens_total, error_count,
    cost_total`) and a JSON manifest beside it (sha256 checksum, row count, column totals,
    time range, the rollup materializations it was made from), under
    `ANALYTICS_EXPORTS_URL/monthly/YYYY-MM/<organization>/`. Each CSV is reconciled against the
    hourly rollups before it is written, and gets a succeeded job row in `analytics_export_jobs`
    (initiated by `schedule`; one per organization and month, refreshed on re-materialization),
    so the export API lists it and serves its download. One run covers every organization; a
    backfill of several months is one run too."""
    store = object_storage.exports()
    lineage = _rollup_lineage(context)
    generated_at = clock.now()
    files = organizations = checked = 0
    grand_requests = 0
    grand_cost = Decimal(0)
    failures: list[str] = []
    worst_relative = Decimal(0)
    initiated_by = "schedule" if context.run.tags.get(SCHEDULE_TAG) else "dagster"
    for month in monthly_partitions.get_partition_keys_in_time_window(context.partition_time_window):
        window = monthly_partitions.time_window_for_partition_key(month)
        sources = [s for s in lineage if window.start.strftime("%Y-%m") in s["partition"]]
        written_exports = []
        with warehouse.connect() as conn:
            expected = expected_totals_by_organization(conn, ExportGranularity.DAILY, window.start, window.end)
            rows = query_export_rows(conn, granularity=ExportGranularity.DAILY, range_start=window.start,
                                     range_end=window.end, organization_id=None, by_model=True)
            for organization_id, org_rows in rows_by_organization(rows):
                target = monthly_export_target(window.start, window.end, organization_id)
                checked += 1
                try:
                    written = write_export(store, target, org_rows, expected.pop(organization_id),
                                           generated_at=generated_at, sources=sources)
                except ExportDoesNotReconcile as error:
                    failures.append(f"{month} {organization_id}: {error.reconciliation.differences}")
                    worst_relative = max(worst_relative, *error.reconciliation.relative.values())
                    continue
                worst_relative = max(worst_relative, *written.reconciliation.relative.values())
                written_exports.append(written)
                files += 2
                organizations += 1
                grand_requests += written.totals.request_count
                grand_cost += written.totals.cost_total
            failures += [f"{month} {org}: in the rollups but not exported" for org in expected]
            for written in written_exports:  # the rows' cursor is done: one job row per file
                target = written.target
                request = ExportRequest(target.organization_id, target.start, target.end, target.granularity,
                                        target.by_model, initiated_by,
                                        scheduled_job_id(target.organization_id, target.start, target.granularity))
                record_scheduled_export(conn, request, output_key=target.csv_key,
                                        output_uri=store.object_url(target.csv_key), checksum=written.checksum,
                                        row_count=written.totals.row_count, at=generated_at, run_id=context.run.run_id)
        context.log.info(f"{month}: exports written under {store.url.rstrip('/')}/monthly/{window.start:%Y-%m}/")
    check = dg.AssetCheckResult(
        check_name=EXPORTS_RECONCILE,
        passed=not failures,
        metadata={"organizations_checked": checked, "failures": len(failures),
                  "max_relative_difference": float(worst_relative),
                  **({"first_failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in failures[:20]))}
                     if failures else {})},
    )
    return dg.MaterializeResult(check_results=[check], metadata={
        "organizations": organizations,
        "files_written": files,
        "request_count": grand_requests,
        "cost_total": float(grand_cost),
        "cost_total_exact": str(grand_cost),
        "location": dg.MetadataValue.path(store.url),
    })
