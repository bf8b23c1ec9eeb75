"""On-call on the portal: request tracing (the SRE page's search box for a finance-wide session,
an organization's own trace from its pages), the SRE page's panel of open alerts and system
health, and the status page's open incidents and silent endpoints.

The portal reads the alerts and the system-health minutes through their SQL files
(``sql/alerts/``), as it reads every other table; tracing through the tracing domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from analytics_pipeline.api.deps import InternalSession, PortalOrgScope, Warehouse
from analytics_pipeline.api.portal.pages import render
from analytics_pipeline.tracing.trace import trace_request
from analytics_pipeline.warehouse.sql import fetch_rows, load_sql

router = APIRouter(prefix="/portal", include_in_schema=False)
RequestIdText = Annotated[str | None, Query(max_length=256, description="A request id to trace.")]

#: How the public status page titles an incident, by the kind of the rule that opened it (never the
#: alert's own summary: it carries request counts, which the public page does not publish).
INCIDENT_TITLES = {
    "endpoint_availability": "Elevated server errors on {subject}",
    "endpoint_5xx_rate": "Elevated server errors on {subject}",
    "endpoint_p95_latency": "Slow responses on {subject}",
    "ingestion_stalled": "Usage data is delayed",
    "export_queue_stuck": "Usage exports are delayed",
    "service_metric_above": "Platform capacity is degraded",
}


@dataclass(frozen=True)
class Incident:
    title: str
    since: datetime
    acknowledged: bool


def open_incidents(conn) -> list[Incident]:
    """The open incidents the status page shows: critical platform alerts firing or acknowledged."""
    incidents = []
    for kind, subject, fired_at, status in conn.execute(load_sql("alerts/open_incidents")):
        title = INCIDENT_TITLES.get(kind, "Platform incident").format(subject=subject or "the platform")
        incidents.append(Incident(title, fired_at, status == "acknowledged"))
    return incidents


def silent_endpoints(figures: dict) -> list[tuple[str, datetime | None]]:
    """Endpoints of the status page with requests in its 90 days but none in its window: (name, the
    start of their last hour with requests)."""
    silent = []
    for name in figures["names"]:
        entry = figures["endpoints"][name]
        if entry["window"].state == "no_data" and entry["total"].requests:
            last = max((hour for hour, tally in entry["hours"].items() if tally.requests), default=None)
            silent.append((name, last))
    return silent


def status_incidents(conn, figures: dict) -> dict:
    """The status page's additions: open incidents, and endpoints gone silent."""
    return {"incidents": open_incidents(conn), "silent": silent_endpoints(figures)}


def open_alerts(conn) -> list[dict]:
    cursor = conn.execute(load_sql("alerts/open_alerts"))
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


@dataclass(frozen=True)
class ServiceFigure:
    """One metric of one service over the panel's hour."""

    namespace: str
    service: str
    metric_name: str
    unit: str | None
    mean: float | None
    maximum: float | None
    total: float | None
    last_mean: float | None
    last_minute: datetime


#: What the SRE page's system-health panel shows: ECS and Lambda CPU and memory, RDS connections and
#: CPU, the load balancer's requests and 5xx.
PANEL_METRICS = ("CPUUtilization", "MemoryUtilization", "cpu_total_time", "memory_utilization",
                 "DatabaseConnections", "RequestCount", "HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count")


def latest_hour(conn, now: datetime) -> list[ServiceFigure]:
    """Per service and panel metric, the hour up to the latest minute at or before ``now``."""
    return fetch_rows(conn, "system_health/latest_minutes", {"now": now, "metric_names": list(PANEL_METRICS)},
                      ServiceFigure)


def sre_panel(conn, now: datetime) -> dict:
    """The SRE page's on-call context: the open alerts and the system-health panel."""
    return {"open_alerts": open_alerts(conn), "system_health": latest_hour(conn, now)}


@router.get("/internal/trace", name="portal_trace", response_class=HTMLResponse)
def trace_page(request: Request, session: InternalSession, warehouse: Warehouse,
               request_id: RequestIdText = None) -> HTMLResponse:
    """A request id traced in every organization (finance-wide sessions)."""
    return _trace_page(request, warehouse, request_id, None)


@router.get("/orgs/{orgId}/trace", name="portal_org_trace", response_class=HTMLResponse)
def org_trace_page(request: Request, scope: PortalOrgScope, warehouse: Warehouse,
                   request_id: RequestIdText = None) -> HTMLResponse:
    """A request id of this organization traced (its own lines only)."""
    return _trace_page(request, warehouse, request_id, scope.organization_id)


def _trace_page(request: Request, warehouse, request_id: str | None, org: str | None) -> HTMLResponse:
    """The trace page of ``request_id`` in ``org`` (every organization for None; the page names no organization)."""
    trace = None
    if request_id:
        with warehouse.connection() as conn:
            trace = trace_request(conn, request_id.strip(), [org] if org else None)
    context = {"trace": trace, "request_id": request_id or ""}
    return render(request, "trace.html", {**context, "org": org} if org else context)
