"""The export jobs: ``monthly_exports_job`` (every organization's month) and ``export_job``
(an ad hoc export for one organization and range, launched by ``export_request_sensor``)."""

import uuid

import dagster as dg

from analytics_pipeline.defs.exports.assets import monthly_usage_exports
from analytics_pipeline.defs.resources import ClockResource, ObjectStorageResource, WarehouseResource
from analytics_pipeline.defs.shared import EXPORT_TAG, NETWORK_RETRY
from analytics_pipeline.exports.export_jobs import (
    ExportRequest,
    ExportSlot,
    InvalidExportRequest,
    failure_message,
    get_job,
    mark_failed,
    mark_running,
    mark_succeeded,
    record_request,
)
from analytics_pipeline.exports.reconciliation import expected_totals_for
from analytics_pipeline.exports.usage_csv import query_export_rows
from analytics_pipeline.exports.writer import ExportDoesNotReconcile, write_export

monthly_exports_job = dg.define_asset_job(
    "monthly_exports_job",
    selection=[monthly_usage_exports],
    description="Finance CSV exports of one month, for every organization with usage.",
)


class ExportJobConfig(dg.Config):
    """Which export to run: ``job_id`` of a job row (written by the export API or
    ``analytics-pipeline export``; ``export_request_sensor`` passes it), or, from the launchpad,
    the request itself (times ISO 8601, UTC when no zone is given), recorded as a new job."""

    job_id: str | None = None
    organization_id: str | None = None
    start: str | None = None
    end: str | None = None
    granularity: str = "daily"
    by_model: bool = True
    initiated_by: str | None = None


#: Failures a retry cannot fix: the job fails at once, without the retry policy's attempts.
NOT_RETRIED = (ExportDoesNotReconcile, InvalidExportRequest)


def _request(context: dg.OpExecutionContext, config: ExportJobConfig, conn, clock: ClockResource) -> ExportRequest:
    """The job's request: read from its row, or recorded (pending) from the config."""
    # Without a job id, derive one from the run: the op's retries then update one job row.
    job_id = config.job_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"analytics-export/{context.run.run_id}"))
    try:
        existing = get_job(conn, uuid.UUID(job_id))
    except ValueError:
        raise dg.Failure(f"job_id {job_id!r} is not a UUID", allow_retries=False) from None
    if existing is not None:
        return existing.request()
    if not (config.organization_id and config.start and config.end):
        raise dg.Failure(f"there is no export job {job_id}, and the config gives no organization_id, start and end "
                         "to record one", allow_retries=False)
    try:
        request = ExportRequest.parse(
            organization_id=config.organization_id, start=config.start, end=config.end,
            granularity=config.granularity, by_model=config.by_model, initiated_by=config.initiated_by,
            job_id=job_id)
    except InvalidExportRequest as error:
        raise dg.Failure(f"the export request is invalid: {error}", allow_retries=False) from None
    record_request(conn, request, created_at=clock.now())
    return request


@dg.op(retry_policy=NETWORK_RETRY)
def run_usage_export(context: dg.OpExecutionContext, config: ExportJobConfig, warehouse: WarehouseResource,
                     object_storage: ObjectStorageResource, clock: ClockResource) -> dg.Output:
    """Run one export job of `analytics_export_jobs`: mark it running (with this run's id), wait
    for one of the two export slots, render the CSV, reconcile its totals along an independent
    path (1% tolerance: daily and monthly against the hourly rollups, hourly against the raw
    events), and only then write it and its manifest and mark the job succeeded. A failure marks
    it failed with one sentence (the traceback stays in this run's logs) once no retry is left."""
    store = object_storage.exports()
    run_id = context.run.run_id
    with warehouse.connect(autocommit=True) as conn:
        request = _request(context, config, conn, clock)
        done = get_job(conn, request.job_id)
        if done is not None and done.status in ("succeeded", "expired"):
            context.log.info(f"export job {request.job_id} is already {done.status}: nothing to do")
            return dg.Output(str(request.job_id), metadata={"job_id": str(request.job_id), "status": done.status})
        try:
            with ExportSlot(conn):
                mark_running(conn, request.job_id, run_id, at=clock.now())
                rows = list(query_export_rows(conn, granularity=request.granularity, range_start=request.start,
                                              range_end=request.end, organization_id=request.organization_id,
                                              by_model=request.by_model))
                expected = expected_totals_for(conn, request.granularity, request.start, request.end,
                                               request.organization_id)
                written = write_export(store, request.target(), rows, expected, generated_at=clock.now(),
                                       sources=[{"table": request.granularity.rollup_table,
                                                 "job_id": str(request.job_id)}])
                location = store.object_url(request.csv_key)
                mark_succeeded(conn, request.job_id, output_key=request.csv_key, output_uri=location,
                               checksum=written.checksum, row_count=written.totals.row_count, at=clock.now())
        except Exception as error:
            retried = not isinstance(error, NOT_RETRIED) and context.retry_number < NETWORK_RETRY.max_retries
            message = failure_message(error, run_id)
            if retried:
                context.log.warning(f"export job {request.job_id}: {message}; retrying")
            else:
                mark_failed(conn, request.job_id, message, at=clock.now())
            if isinstance(error, NOT_RETRIED):
                raise dg.Failure(description=message, allow_retries=False) from error
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
        "output_uri": (dg.MetadataValue.url(location) if location.startswith("http")
                       else dg.MetadataValue.path(location)),
    })


@dg.job(tags={EXPORT_TAG: "adhoc"})
def export_job():
    """An ad hoc usage export (hourly, daily or monthly buckets, at most 31 days) for one
    organization, with its job record in `analytics_export_jobs`; launched by
    `export_request_sensor` for each pending job (at most 2 run at once)."""
    run_usage_export()
