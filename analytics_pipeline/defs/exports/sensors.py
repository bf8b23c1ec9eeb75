"""``export_request_sensor``: each pending export job (from the export API, the CLI) becomes one
``export_job`` run; jobs whose runs died without finishing are marked failed."""

from datetime import timedelta

import dagster as dg

from analytics_pipeline.defs.exports.jobs import export_job
from analytics_pipeline.defs.resources import ClockResource, WarehouseResource
from analytics_pipeline.defs.shared import EXPORT_JOB_ID_TAG, EXPORT_TAG, described_sensor
from analytics_pipeline.exports.export_jobs import STUCK_AFTER, mark_failed, pending_jobs, running_jobs

MAX_JOBS_PER_TICK = 100
#: A pending job older than this whose run has ended is looked at (its run failed before the op ran).
PENDING_CHECK_AFTER = timedelta(minutes=5)
ENDED = (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)


def _latest_run(instance: dg.DagsterInstance, job_id: str) -> dg.DagsterRun | None:
    runs = instance.get_runs(filters=dg.RunsFilter(tags={EXPORT_JOB_ID_TAG: job_id}), limit=1)
    return runs[0] if runs else None


@described_sensor(job=export_job, minimum_interval_seconds=15, default_status=dg.DefaultSensorStatus.RUNNING)
def export_request_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource,
                          clock: ClockResource) -> dg.SensorResult | dg.SkipReason:
    """Requests one `export_job` run per pending job of `analytics_export_jobs`, oldest first
    (up to 100 a tick). `run_key` is the job id, so a job is launched once however many ticks see
    it pending; the runs carry the `analytics/export` tag, which the run queue limits to 2 at
    once. A running job whose run failed or was canceled, and a pending job whose run failed
    before it started, are marked failed with the reason."""
    now = clock.now()
    with warehouse.connect(autocommit=True) as conn:
        pending = pending_jobs(conn, limit=MAX_JOBS_PER_TICK)
        ended = 0
        for job in running_jobs(conn, limit=MAX_JOBS_PER_TICK):
            run = context.instance.get_run_by_id(job.run_id) if job.run_id else None
            if run is not None and run.status in ENDED:
                mark_failed(conn, job.job_id, f"its run {run.run_id} {run.status.value.lower()} before the export "
                                              "finished; request a new export", at=now)
                ended += 1
        for job in pending:
            if now - job.created_at < PENDING_CHECK_AFTER:
                continue
            run = _latest_run(context.instance, str(job.job_id))
            if run is not None and run.status in ENDED:
                mark_failed(conn, job.job_id, f"its run {run.run_id} {run.status.value.lower()} before the export "
                                              "started; request a new export", at=now)
                ended += 1
    run_requests = [
        dg.RunRequest(
            run_key=str(job.job_id),
            run_config={"ops": {"run_usage_export": {"config": {"job_id": str(job.job_id)}}}},
            tags={EXPORT_TAG: "adhoc", EXPORT_JOB_ID_TAG: str(job.job_id)},
        )
        for job in pending
    ]
    if ended:
        context.log.warning(f"{ended} export job(s) marked failed: their runs ended without finishing")
    waiting = [job for job in pending if now - job.created_at > STUCK_AFTER]
    if waiting:  # e.g. the daemon was stopped, or the run queue holds their runs behind 2 running exports
        context.log.warning(f"{len(waiting)} export job(s) pending for more than {STUCK_AFTER}, the oldest "
                            f"{waiting[0].job_id} since {waiting[0].created_at.isoformat()} (also shown by the "
                            "export API's /readyz)")
    if not run_requests:
        return dg.SkipReason("no pending export jobs")
    context.log.info(f"{len(run_requests)} pending export job(s); the oldest since {pending[0].created_at.isoformat()}")
    return dg.SensorResult(run_requests=run_requests)
