"""Export jobs of an organization: create (202), get, list (keyset pages), download (302)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import RedirectResponse

from analytics_pipeline.api.audit import RequestContext
from analytics_pipeline.api.cursor import CURSOR_PATTERN, InvalidCursor, decode_cursor, encode_cursor
from analytics_pipeline.api.deps import ApiSettings, AuditContext, Clock, Links, OrgScope, ReadWarehouse, Warehouse
from analytics_pipeline.api.errors import ERROR_DESCRIPTIONS, ApiError, JsonResponse
from analytics_pipeline.api.export_actions import create_export_job, download_url, found_job
from analytics_pipeline.api.models import CreateExport, ErrorBody, ExportJobList, ExportJobOut, job_body
from analytics_pipeline.exports.export_jobs import (
    ExportRequest,
    InvalidExportRequest,
    get_job_async,
    page_jobs_async,
)

router = APIRouter(prefix="/analytics/v1/orgs/{orgId}/exports", tags=["exports"])


def _errors(*statuses: int) -> dict:
    return {status: {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[status]} for status in statuses}


JobId = Annotated[uuid.UUID, Path(alias="jobId", description="The export job's UUID.")]


def _job_id(audit: RequestContext, job_id: uuid.UUID) -> uuid.UUID:
    audit.job_id = job_id  # audited with a refusal too
    return job_id


@router.post(
    "", status_code=202, name="create_export", response_model=ExportJobOut,
    summary="Create an export job",
    responses={202: {"description": "The job was created (or, for a repeated Idempotency-Key, is the job that "
                                    "key created); poll it until it has succeeded.",
                     "content": {"application/json": {"example": {
                         "jobId": "550e8400-e29b-41d4-a716-446655440000",
                         "orgId": "123e4567-e89b-12d3-a456-426614174000", "status": "pending",
                         "granularity": "daily", "byModel": True,
                         "timeRange": {"start": "2024-01-01T00:00:00Z", "end": "2024-01-31T23:59:59Z"},
                         "createdAt": "2024-01-15T10:00:00Z", "initiatedBy": "finance-reporting"}}}},
               **_errors(400, 401, 403, 409, 413, 415, 422, 429, 503)})
def create_export(
    audit: AuditContext, settings: ApiSettings, scope: OrgScope, warehouse: Warehouse, clock: Clock,
    body: CreateExport,
    idempotency_key: Annotated[str | None, Header(
        alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$",
        description="A retried POST with the same key (and the same body) returns the same job.")] = None,
) -> JsonResponse:
    """Creates a `pending` export job of the organization's usage; Dagster runs it (at most 2 at
    once). The range covers at most 31 days; an end 1 s before a boundary of the granularity
    (`2024-01-31T23:59:59Z`) is read as that boundary (`2024-02-01T00:00:00Z`, exclusive), so both
    forms request the same month. At most 10 jobs of an organization are pending or running."""
    try:
        export = ExportRequest.parse(organization_id=scope.organization_id, start=body.time_range.start,
                                     end=body.time_range.end, granularity=body.granularity, by_model=body.by_model,
                                     initiated_by=scope.key.name)
    except InvalidExportRequest as error:
        raise ApiError(422, error.code, str(error)) from None
    created = create_export_job(audit, scope, warehouse, export, clock(), max_active=settings.api_max_active_jobs,
                                idempotency_key=idempotency_key)
    job = created.job
    headers = {"Location": f"{router.prefix.replace('{orgId}', scope.organization_id)}/{job.job_id}"}
    if not created.created:
        headers["Idempotent-Replayed"] = "true"
    return JsonResponse(job_body(job), status_code=202, headers=headers)


@router.get("/{jobId}", name="get_export", response_model=ExportJobOut, response_model_exclude_none=True,
            summary="Get an export job", responses=_errors(401, 403, 404, 422, 503))
async def get_export(audit: AuditContext, scope: OrgScope, reads: ReadWarehouse, job_id: JobId) -> JsonResponse:
    """The job and where it stands; once succeeded, its checksum, row count and where the CSV is."""
    parsed = _job_id(audit, job_id)
    async with reads.connection() as conn:
        job = found_job(await get_job_async(conn, parsed, scope.organization_id), scope, parsed)
    return JsonResponse(job_body(job))


@router.get("", name="list_exports", response_model=ExportJobList, summary="List export jobs",
            responses=_errors(401, 403, 422, 503))
async def list_exports(
    scope: OrgScope, reads: ReadWarehouse,
    status: Annotated[Literal["pending", "running", "succeeded", "failed", "expired"] | None,
                      Query(description="Only jobs in this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Jobs per page (1 to 200).")] = 50,
    cursor: Annotated[str | None, Query(max_length=256, pattern=CURSOR_PATTERN,
                                        description="`nextCursor` of the previous page.")] = None,
) -> JsonResponse:
    """The organization's jobs, newest first, `limit` at a time. Pages follow a keyset
    (creation time, job id), so a page never repeats or skips a job while new jobs arrive."""
    try:
        before = decode_cursor(cursor) if cursor else None
    except InvalidCursor as error:
        raise ApiError(422, "invalid_cursor", str(error)) from None
    async with reads.connection() as conn:
        jobs = await page_jobs_async(conn, scope.organization_id, status=status, limit=limit + 1, before=before)
    more = len(jobs) > limit
    jobs = jobs[:limit]
    next_cursor = encode_cursor(jobs[-1].created_at, jobs[-1].job_id) if more else None
    return JsonResponse({"jobs": [job_body(job) for job in jobs], "nextCursor": next_cursor})


@router.get("/{jobId}/download", name="download_export", status_code=302, summary="Download an export's CSV",
            response_class=RedirectResponse,
            responses={302: {"description": "Redirect to a freshly signed URL of the CSV (an S3 presigned GET, or a "
                                            "link the API serves), valid until 24 h after the export completed.",
                             "headers": {"Location": {"schema": {"type": "string"},
                                                      "description": "The signed URL."}}},
                       **_errors(401, 403, 404, 409, 410, 422, 503)})
def download_export(audit: AuditContext, links: Links, scope: OrgScope, warehouse: Warehouse, clock: Clock,
                    job_id: JobId) -> RedirectResponse:
    """Redirects (302) to the CSV through a URL signed now and valid until 24 h after the export
    completed. Later, or once retention deleted the file (90 days, status `expired`): 410, request
    a new export. A job that has not succeeded: 409."""
    url = download_url(audit, links, scope, warehouse, _job_id(audit, job_id), clock())
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
