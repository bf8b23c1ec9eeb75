"""The export jobs: ``monthly_exports_job`` (every organization's month) and ``export_job``
(an ad hoc export for one organization and range)."""

import traceback
import uuid

import dagster as dg

from analytics_pipeline.defs.exports.assets import monthly_usage_exports
from analytics_pipeline.defs.resources import ClockResource, ObjectStorageResource, WarehouseResource
from analytics_pipeline.defs.shared import EXPORT_TAG, NETWORK_RETRY
from analytics_pipeline.exports.export_jobs import (
    ExportRequest,
    ExportSlot,
    mark_failed,
    mark_running,
    mark_succeeded,
    record_request,
)
from analytics_pipeline.exports.reconciliation import rollup_totals_for
from analytics_pipeline.exports.usage_csv import query_export_rows
from analytics_pipeline.exports.writer import write_export

monthly_exports_job = dg.define_asset_job(
    "monthly_exports_job",
    selection=[monthly_usage_exports],
    description="Finance CSV exports of one month, for every organization with usage.",
)


class ExportJobConfig(dg.Config):
    """An export request. Times are ISO 8601 (UTC when no zone is given)."""

    organization_id: str
    start: str
    end: str
    granularity: str = "daily"
    by_model: bool = True
    initiated_by: str | None = None
    job_id: str | None = None  # set by `analytics-pipeline export`; a new UUID otherwise


@dg.op(retry_policy=NETWORK_RETRY)
def run_usage_export(context: dg.OpExecutionContext, config: ExportJobConfig, warehouse: WarehouseResource,
                     object_storage: ObjectStorageResource, clock: ClockResource) -> dg.Output:
    """Validate the request, record it in `analytics_export_jobs`, wait for one of the two
    export slots, render the CSV, reconcile its totals with the rollups (1% tolerance), and
    only then write it and its manifest and record the outcome, including the presigned (24 h) URL."""
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
                expected = rollup_totals_for(conn, request.granularity, request.start, request.end,
                                             request.organization_id)
                written = write_export(store, request.target(), rows, expected, generated_at=clock.now(),
                                       sources=[{"table": request.granularity.rollup_table,
                                                 "job_id": str(request.job_id)}])
                url = store.share_url(request.csv_key)
                mark_succeeded(conn, request.job_id, output_key=request.csv_key, output_uri=url,
                               checksum=written.checksum, row_count=written.totals.row_count)
        except Exception:
            mark_failed(conn, request.job_id, traceback.format_exc(limit=3))
            raise
    totals, reconciliation = written.totals, written.reconciliation
    context.log.info(f"export {request.job_id}: {totals.row_count} rows -> {request.csv_key}")
    return dg.Output(str(request.job_id), metadata={
        "job_id": str(request.job_id),
        "organization_id": request.organization_id,
        "granularity": request.granularity.value,
        "rows": totals.row_count,
        "checksum": written.checksum,
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
