"""``monthly_usage_exports``: one finance CSV (and manifest) per organization per month."""

from datetime import UTC, datetime
from decimal import Decimal

import dagster as dg

from analytics_pipeline.defs.partitions import daily_partitions, monthly_partitions
from analytics_pipeline.defs.resources import ObjectStorageResource, WarehouseResource
from analytics_pipeline.exports.export_jobs import reconcile, rollup_totals_by_organization
from analytics_pipeline.exports.usage_csv import (
    ExportGranularity,
    build_manifest,
    manifest_bytes,
    monthly_export_keys,
    query_export_rows,
    render_csv,
    rows_by_organization,
)

DAILY_ROLLUPS = dg.AssetKey("daily_usage_rollups")
EXPORTS_RECONCILE = "exports_reconcile_with_rollups"


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
        description="Each CSV's column totals equal the daily rollups for its organization and month "
                    "within 1% (in practice: exact up to rounding each row's cost to 4 decimals).")],
    kinds={"postgres", "s3", "csv"},
    group_name="exports",
    owners=["team:data-engineering"],
)
def monthly_usage_exports(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, object_storage: ObjectStorageResource
) -> dg.MaterializeResult:
    """Finance exports: for every organization with usage in the month, a daily-granularity
    CSV (`bucket_start, organization_id, model_id, request_count, tokens_total, error_count,
    cost_total`) and a JSON manifest beside it (sha256 checksum, row count, column totals,
    time range, the rollup materializations it was made from), under
    `ANALYTICS_EXPORTS_URL/monthly/YYYY-MM/<organization>/`. One run covers every
    organization; a backfill of several months is one run too."""
    store = object_storage.exports()
    lineage = _rollup_lineage(context)
    generated_at = datetime.now(UTC)
    files = organizations = 0
    grand_requests = 0
    grand_cost = 0
    failures: list[str] = []
    worst_relative = Decimal(0)
    for month in monthly_partitions.get_partition_keys_in_time_window(context.partition_time_window):
        window = monthly_partitions.time_window_for_partition_key(month)
        with warehouse.connect() as conn:
            expected = rollup_totals_by_organization(conn, ExportGranularity.DAILY, window.start, window.end)
            rows = query_export_rows(conn, granularity=ExportGranularity.DAILY, range_start=window.start,
                                     range_end=window.end, organization_id=None, by_model=True)
            for organization_id, org_rows in rows_by_organization(rows):
                csv_bytes, totals = render_csv(org_rows)
                manifest = build_manifest(
                    csv_bytes=csv_bytes, totals=totals, organization_id=organization_id, range_start=window.start,
                    range_end=window.end, granularity=ExportGranularity.DAILY, by_model=True,
                    generated_at=generated_at,
                    sources=[s for s in lineage if window.start.strftime("%Y-%m") in s["partition"]],
                )
                csv_key, manifest_key = monthly_export_keys(window.start, organization_id)
                store.write(csv_key, csv_bytes, content_type="text/csv")
                store.write(manifest_key, manifest_bytes(manifest), content_type="application/json")
                reconciliation = reconcile(totals, expected.pop(organization_id))
                worst_relative = max(worst_relative, *reconciliation.relative.values())
                if not reconciliation.passed:
                    failures.append(f"{month} {organization_id}: {reconciliation.differences}")
                files += 2
                organizations += 1
                grand_requests += totals.request_count
                grand_cost += totals.cost_total
            failures += [f"{month} {org}: in the rollups but not exported" for org in expected]
        context.log.info(f"{month}: exports written under {store.url.rstrip('/')}/monthly/{window.start:%Y-%m}/")
    check = dg.AssetCheckResult(
        check_name=EXPORTS_RECONCILE,
        passed=not failures,
        metadata={"organizations_checked": organizations, "failures": len(failures),
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
