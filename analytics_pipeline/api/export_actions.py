"""What creating an export and downloading one do, whoever asks: the export API's routes
(``POST .../exports``, ``GET .../download``) and the portal's export form and download links
call these, so both create jobs through :func:`create_job` under the same per-organization cap
and hand out the same signed links, each audited the same way. What they need arrives as the
routes' declared dependencies: the request's audit context (its key, organization, client), the
settings' cap, the download links."""

from __future__ import annotations

import uuid
from datetime import datetime

from psycopg_pool import ConnectionPool

from analytics_pipeline.api.audit import RequestContext, write_audit
from analytics_pipeline.api.deps import Scope
from analytics_pipeline.api.downloads import DownloadLinks
from analytics_pipeline.api.errors import ApiError
from analytics_pipeline.exports.export_jobs import (
    CreatedJob,
    ExportJob,
    ExportRequest,
    IdempotencyKeyReused,
    TooManyActiveJobs,
    create_job,
    get_job,
)
from analytics_pipeline.storage.object_store import SHARE_URL_LIFETIME

RETRY_AFTER_SECONDS = 60
DOWNLOAD_LIFETIME = SHARE_URL_LIFETIME  # a download link is valid until 24 h after the export completed


def create_export_job(audit: RequestContext, scope: Scope, warehouse: ConnectionPool, export: ExportRequest,
                      now: datetime, *, max_active: int, idempotency_key: str | None = None) -> CreatedJob:
    """A ``pending`` job for ``export`` (or the one ``idempotency_key`` made before), audited as
    ``create_export``. ApiError 429 past the organization's ``max_active`` jobs, 409 for an
    idempotency key reused for another request."""
    with warehouse.connection() as conn:
        try:
            created = create_job(conn, export, created_at=now, max_active=max_active,
                                 idempotency_key=idempotency_key, api_key_id=scope.key.key_id)
        except TooManyActiveJobs as error:
            raise ApiError(429, "too_many_active_jobs", str(error),
                           {"Retry-After": str(RETRY_AFTER_SECONDS)}) from None
        except IdempotencyKeyReused as error:
            audit.job_id = error.job.job_id
            raise ApiError(409, "idempotency_key_reused", str(error)) from None
        write_audit(conn, audit.entry(at=now, action="create_export", status_code=202,
                                      outcome="ok" if created.created else "replayed", key_id=scope.key.key_id,
                                      organization_id=scope.organization_id, job_id=created.job.job_id))
    return created


def found_job(job: ExportJob | None, scope: Scope, job_id: uuid.UUID) -> ExportJob:
    """``job`` as read for the scope's organization: ApiError 404 when there is none (another
    organization's job is "not found" too: its existence never leaks)."""
    if job is None:
        raise ApiError(404, "export_not_found", f"there is no export job {job_id} in organization "
                                                f"{scope.organization_id}")
    return job


def scoped_job(conn, scope: Scope, job_id: uuid.UUID) -> ExportJob:
    """The job of the scope's organization (ApiError 404 otherwise, see found_job)."""
    return found_job(get_job(conn, job_id, scope.organization_id), scope, job_id)


def download_url(audit: RequestContext, links: DownloadLinks, scope: Scope, warehouse: ConnectionPool,
                 job_id: uuid.UUID, now: datetime) -> str:
    """A URL of the job's CSV signed now, valid until 24 h after the export completed, audited as
    ``download_export``. ApiError 410 once that has passed or retention deleted the file, 409
    for a job that has not succeeded, 404 for no such job of the organization."""
    with warehouse.connection() as conn:
        job = scoped_job(conn, scope, job_id)
        if job.status == "expired":
            raise ApiError(410, "export_expired", "retention deleted this export's file; request a new export")
        if job.status != "succeeded" or not job.output_key or job.completed_at is None:
            detail = f": {job.error}" if job.status == "failed" and job.error else ""
            raise ApiError(409, "export_not_ready", f"the export is {job.status}, not succeeded{detail}")
        valid_until = job.completed_at + DOWNLOAD_LIFETIME
        if now >= valid_until:
            raise ApiError(410, "download_expired", f"downloads of this export were valid until "
                                                    f"{valid_until:%Y-%m-%dT%H:%M:%SZ} (24 h after it completed); "
                                                    "request a new export")
        url = links.signed_url(job, now, valid_until)
        write_audit(conn, audit.entry(at=now, action="download_export", status_code=302, outcome="ok",
                                      key_id=scope.key.key_id, organization_id=scope.organization_id,
                                      job_id=job.job_id))
    return url


def downloadable(job: ExportJob, now: datetime) -> bool:
    """Whether :func:`download_url` would hand out a link for the job now (for the portal's list)."""
    return (job.status == "succeeded" and bool(job.output_key) and job.completed_at is not None
            and now < job.completed_at + DOWNLOAD_LIFETIME)
