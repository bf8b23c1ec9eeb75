"""A customer's exports: the list, the form that requests one, and downloads.

The form creates the job exactly as ``POST /analytics/v1/orgs/{orgId}/exports`` does
(:func:`create_export_job`: the same validation, the per-organization cap, the audit); its
hidden ``request_token`` is the job's idempotency key, so a form sent twice (a double click, a
reload) makes one job. A download is the API's signed link (:func:`download_url`)."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from analytics_pipeline.api.deps import (
    ApiSettings,
    AuditContext,
    Clock,
    CsrfForm,
    Links,
    PortalOrgScope,
    Scope,
    Warehouse,
)
from analytics_pipeline.api.errors import ApiError
from analytics_pipeline.api.export_actions import create_export_job, download_url, downloadable
from analytics_pipeline.api.portal import queries
from analytics_pipeline.api.portal.pages import render
from analytics_pipeline.api.portal.ranges import end_of_today, month
from analytics_pipeline.directory.names import organization_names
from analytics_pipeline.exports.export_jobs import ExportRequest, InvalidExportRequest, accepted_day, page_jobs

router = APIRouter(prefix="/portal/orgs/{orgId}/exports", include_in_schema=False)
LISTED = 50
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _page(request: Request, scope: Scope, warehouse, now: datetime, *, form: dict | None = None,
          message: str | None = None, created: str | None = None, status: int = 200) -> HTMLResponse:
    org = scope.organization_id
    with warehouse.connection() as conn:
        jobs = page_jobs(conn, org, limit=LISTED)
        org_name = organization_names(conn, [org]).get(org)
        if form is None:
            last = queries.latest_usage_day(conn, org, end_of_today(now))
            chosen = month(None, default=last or now.date())
            form = {"start": chosen.first.isoformat(), "end": chosen.last.isoformat(), "granularity": "daily",
                    "by_model": "on"}
    form = {**form, "request_token": secrets.token_urlsafe(16)}
    return render(request, "exports.html", {
        "org": org, "org_name": org_name, "jobs": [(job, downloadable(job, now), last_included(job)) for job in jobs],
        "form": form, "live": any(job.status in ("pending", "running") for job in jobs),
        "message": message, "created": created, "now": now}, status=status)


def last_included(job) -> str:
    """The last bucket a job's range includes (the form's convention: ``from`` and ``to`` both included)."""
    if job.granularity == "hourly":
        return f"{job.range_end - timedelta(hours=1):%Y-%m-%d %H:00}"
    return f"{(job.range_end - timedelta(days=1)).date():%Y-%m-%d}"


@router.get("", name="portal_exports", response_class=HTMLResponse)
def exports_page(request: Request, scope: PortalOrgScope, warehouse: Warehouse, clock: Clock,
                 created: Annotated[str | None, Query(max_length=64)] = None) -> HTMLResponse:
    """The organization's latest export jobs, newest first, and the form that requests one."""
    return _page(request, scope, warehouse, clock(), created=created)


def _export_request(scope: Scope, form: dict[str, str]) -> ExportRequest:
    """The form's export: days ``start``..``end`` included (the API's ``[start, end)`` with end the midnight
    after the last day), granularity, by model."""
    try:
        first_day = datetime.strptime(form.get("start", ""), "%Y-%m-%d").date()
        last_day = datetime.strptime(form.get("end", ""), "%Y-%m-%d").date()
    except ValueError:
        raise InvalidExportRequest("start and end are days, YYYY-MM-DD", "invalid_time") from None
    # Accepted days only: the midnight after the last one stays on the calendar.
    first = datetime.combine(accepted_day(first_day, "start"), time(), UTC)
    last = datetime.combine(accepted_day(last_day, "end"), time(), UTC)
    return ExportRequest.parse(organization_id=scope.organization_id, start=first, end=last + timedelta(days=1),
                               granularity=form.get("granularity", "daily"), by_model=form.get("by_model") == "on",
                               initiated_by=scope.key.name)


@router.post("", name="portal_request_export", response_model=None)
def request_export(request: Request, audit: AuditContext, settings: ApiSettings, scope: PortalOrgScope,
                   warehouse: Warehouse, clock: Clock, form: CsrfForm) -> HTMLResponse | RedirectResponse:
    """Creates the export job (303 to the list, the new job marked); the form again with the reason when
    the request is refused (422 for the range rules, 429 past the cap of active jobs)."""
    now = clock()
    shown = {name: form.get(name, "") for name in ("start", "end", "granularity", "by_model")}
    token = form.get("request_token", "")
    try:
        export = _export_request(scope, form)
        if not _TOKEN.fullmatch(token):
            raise InvalidExportRequest("the form is incomplete: reload the page", "invalid_request_token")
        created = create_export_job(audit, scope, warehouse, export, now, max_active=settings.api_max_active_jobs,
                                    idempotency_key=f"portal-{token}")
    except InvalidExportRequest as error:
        return _page(request, scope, warehouse, now, form=shown, message=str(error), status=422)
    except ApiError as error:
        if error.status not in (409, 429):
            raise
        return _page(request, scope, warehouse, now, form=shown, message=error.message, status=error.status)
    target = f"/portal/orgs/{scope.organization_id}/exports?created={created.job.job_id}"
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


@router.get("/{jobId}/download", name="portal_download_export")
def download(audit: AuditContext, links: Links, scope: PortalOrgScope, warehouse: Warehouse, clock: Clock,
             job_id: Annotated[str, Path(alias="jobId", max_length=64)]) -> RedirectResponse:
    """302 to the job's CSV through the API's signed link (the error page when it cannot be had)."""
    try:
        parsed = uuid.UUID(job_id)
    except ValueError:
        raise ApiError(404, "export_not_found", "there is no such export job") from None
    audit.job_id = parsed
    url = download_url(audit, links, scope, warehouse, parsed, clock())
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
