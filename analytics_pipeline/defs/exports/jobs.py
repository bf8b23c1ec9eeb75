"""``export_job``: an ad hoc finance export for one organization and range."""

import traceback
import uuid
from datetime import UTC, datetime

import dagster as dg

from analytics_pipeline.defs.resources import ObjectStorageResource, WarehouseResource
from analytics_pipeline.exports.export_jobs import (
    ExportRequest,
    ExportSlot,
    mark_failed,
    mark_running,
    mark_succeeded,
    reconcile,
    record_request,
    rollup_totals_for,
)
from analytics_pipeline.exports.usage_csv import build_manifest, manifest_bytes, query_export_rows, render_csv

EXPORT_TAG = "analytics/export"  # the run queue allows 2 runs with this tag at once (dagster.yaml)


class ExportJobConfig(dg.Config):
    """An export request. Times are ISO 8601 (UTC when no zone is given)."""

    organization_id: str
    start: str
    end: str
    granularity: str = "daily"
    by_model: bool = True
    initiated_by: str | None = None
    job_id: str | None = None  # set by `analytics-pipeline export`; a new UUID otherwise


@dg.op(retry_policy=dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.FULL))
def run_usage_export(context: dg.OpExecutionContext, config: ExportJobConfig, warehouse: WarehouseResource,
                     object_storage: ObjectStorageResource) -> dg.Output:
    """Validate the request, record it in `analytics_export_jobs`, wait for one of the two
    export slots, write the CSV and its manifest, reconcile the CSV's totals with the rollups
    (1% tolerance) and record the outcome, including the presigned (24 h) URL."""
    # Without a job id from the requester, derive one from the run: the op's retries then
    # update one job row instead of leaving a failed row per attempt.
    job_id = config.job_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"analytics-export/{context.run.run_id}"))
    request = ExportRequest.parse(
        organization_id=config.organization_id, start=config.start, end=config.end, granularity=config.granularity,
        by_model=config.by_model, initiated_by=config.initiated_by, job_id=job_id)
    store = object_storage.exports()
    with warehouse.connect(autocommit=True) as conn:
        record_request(conn, request)
        try:
            with ExportSlot(conn):
                mark_running(conn, request.job_id, context.run.run_id)
                rows = list(query_export_rows(conn, granularity=request.granularity, range_start=request.start,
                                              range_end=request.end, organization_id=request.organization_id,
                                              by_model=request.by_model))
                csv_bytes, totals = render_csv(rows)
                reconciliation = reconcile(totals, rollup_totals_for(conn, request))
                if not reconciliation.passed:
                    raise RuntimeError(f"export does not reconcile with the rollups: {reconciliation}")
                manifest = build_manifest(
                    csv_bytes=csv_bytes, totals=totals, organization_id=request.organization_id,
                    range_start=request.start, range_end=request.end, granularity=request.granularity,
                    by_model=request.by_model, generated_at=datetime.now(UTC),
                    sources=[{"table": request.granularity.rollup_table, "job_id": str(request.job_id)}])
                store.write(request.csv_key, csv_bytes, content_type="text/csv")
                store.write(request.manifest_key, manifest_bytes(manifest), content_type="application/json")
                url = store.share_url(request.csv_key)
                mark_succeeded(conn, request.job_id, output_key=request.csv_key, output_uri=url,
                               checksum=manifest["checksum"], row_count=totals.row_count)
        except Exception:
            mark_failed(conn, request.job_id, traceback.format_exc(limit=3))
            raise
    context.log.info(f"export {request.job_id}: {totals.row_count} rows -> {request.csv_key}")
    return dg.Output(str(request.job_id), metadata={
        "job_id": str(request.job_id),
        "organization_id": request.organization_id,
        "granularity": request.granularity.value,
        "rows": totals.row_count,
        "checksum": manifest["checksum"],
        "request_count": totals.request_count,
        "cost_total": float(totals.cost_total),
        "max_relative_difference": float(max(reconciliation.relative.values())),
        "cost_difference": str(reconciliation.differences["cost_total"]),
        "output_uri": dg.MetadataValue.url(url) if url.startswith("http") else dg.MetadataValue.path(url),
    })


@dg.job(tags={EXPORT_TAG: "adhoc"})
def export_job():
    """An ad hoc usage export (hourly, daily or monthly buckets, at most 31 days) for one
    organization, with its job record in `analytics_export_jobs`."""
    run_usage_export()
