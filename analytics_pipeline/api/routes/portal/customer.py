"""A customer's pages, for one organization: usage, performance and costs. Every route takes
:data:`PortalOrgScope`: a session renders the organization of its key only (a finance-wide
key's, any), the same check as the API's organization routes."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from analytics_pipeline.api.deps import Clock, PortalOrgScope, Warehouse
from analytics_pipeline.api.portal import queries
from analytics_pipeline.api.portal.charts import time_chart
from analytics_pipeline.api.portal.pages import render
from analytics_pipeline.api.portal.ranges import MAX_DAILY_DAYS, MAX_HOURLY_DAYS, day_range, end_of_today, month
from analytics_pipeline.directory.names import model_names, organization_names
from analytics_pipeline.exports.usage_csv import MODEL_LESS_ID
from analytics_pipeline.rollups.usage import Granularity, live_usage_from, live_usage_series

router = APIRouter(prefix="/portal/orgs/{orgId}", include_in_schema=False)
#: Below this many requests in a range, an endpoint's p95/p99 are marked as coming from few requests.
FEW_REQUESTS = 100
DayText = Annotated[str | None, Query(max_length=32, description="A UTC day, YYYY-MM-DD.")]


def _default_last_day(conn, organization_id: str, now: datetime):
    """Ranges end on the organization's last day with usage (today when it has none): a page opened
    after a quiet spell still shows numbers, and says which days they are."""
    return queries.latest_usage_day(conn, organization_id, end_of_today(now)) or now.date()


@router.get("/usage", name="portal_usage", response_class=HTMLResponse)
def usage_page(request: Request, scope: PortalOrgScope, warehouse: Warehouse, clock: Clock,
               start: DayText = None, end: DayText = None,
               granularity: Annotated[Literal["daily", "hourly"], Query()] = "daily") -> HTMLResponse:
    """Requests, tokens and errors per day or hour over a range (days included), from the rollups;
    buckets the rollups have not reached yet (the open hour) from the raw events, marked provisional."""
    org, hourly = scope.organization_id, granularity == "hourly"
    grain = Granularity.HOURLY if hourly else Granularity.DAILY
    with warehouse.connection() as conn:
        window = day_range(start, end, default_last=_default_last_day(conn, org, clock()),
                           max_days=MAX_HOURLY_DAYS if hourly else MAX_DAILY_DAYS)
        live_from = min(max(live_usage_from(conn, grain, clock()), window.start), window.end)
        rows = queries.usage_by_bucket(conn, grain, org, window.start, live_from)
        provisional = queries.models_together(live_usage_series(conn, grain, org, live_from, window.end))
        rows += provisional
        agents = {row.bucket_start: row.invocations
                  for row in queries.agent_invocations(conn, grain, org, window.start, window.end)}
        org_name = organization_names(conn, [org]).get(org)
    buckets = window.buckets(hourly)
    by_bucket = {row.bucket_start: row for row in rows}
    chart = time_chart(buckets, {
        "Requests": [by_bucket[b].request_count if b in by_bucket else 0 for b in buckets],
        "Agent invocations": [agents.get(b, 0) for b in buckets],
        "Tokens (thousands)": [round(by_bucket[b].tokens_total / 1000, 1) if b in by_bucket else 0 for b in buckets],
    }, kind="bars" if not hourly else "line", unit="requests", right={"Tokens (thousands)": "thousand tokens"})
    totals = {"request_count": sum(r.request_count for r in rows), "tokens_input": sum(r.tokens_input for r in rows),
              "tokens_output": sum(r.tokens_output for r in rows), "tokens_total": sum(r.tokens_total for r in rows),
              "error_count": sum(r.error_count for r in rows), "agent_invocations": sum(agents.values())}
    return render(request, "usage.html", {"org": org, "org_name": org_name, "window": window,
                                          "granularity": granularity, "rows": rows,
                                          "totals": totals, "chart": chart, "agents": agents,
                                          "provisional": {row.bucket_start for row in provisional}})


@router.get("/performance", name="portal_performance", response_class=HTMLResponse)
def performance_page(request: Request, scope: PortalOrgScope, warehouse: Warehouse, clock: Clock,
                     start: DayText = None, end: DayText = None) -> HTMLResponse:
    """Latency p50/p95/p99 per endpoint and day, each endpoint's requests and error rates, and the
    range's own percentiles per endpoint (the days' sketches merged) with the requests they rest on."""
    org = scope.organization_id
    with warehouse.connection() as conn:
        window = day_range(start, end, default_last=_default_last_day(conn, org, clock()), max_days=92)
        rows = queries.endpoint_performance(conn, org, window.start, window.end)
        org_name = organization_names(conn, [org]).get(org)
        latency = queries.endpoint_range_latency(conn, org, window.start, window.end)
    endpoints: dict[str, list[queries.EndpointDay]] = {}
    for row in rows:
        endpoints.setdefault(row.endpoint, []).append(row)
    summary = []
    for endpoint, days in endpoints.items():
        requests = sum(d.request_count for d in days)
        summary.append({
            "endpoint": endpoint, "request_count": requests, "error_count": sum(d.error_count for d in days),
            "server_error_count": sum(d.server_error_count for d in days),
            "error_rate": 100.0 * sum(d.error_count for d in days) / requests if requests else None,
            "latency": latency.get(endpoint)})
    summary.sort(key=lambda item: -item["request_count"])
    buckets = window.buckets(False)
    busiest = [item["endpoint"] for item in summary[:8]]
    p95 = {endpoint: {d.bucket_start: d.latency_p95_ms for d in endpoints[endpoint]} for endpoint in busiest}
    chart = time_chart(buckets, {endpoint: list(map(p95[endpoint].get, buckets)) for endpoint in busiest}, unit="ms")
    return render(request, "performance.html", {"org": org, "org_name": org_name, "window": window, "rows": rows,
                                                "summary": summary, "chart": chart,
                                                "few_requests": FEW_REQUESTS})


@router.get("/costs", name="portal_costs", response_class=HTMLResponse)
def costs_page(request: Request, scope: PortalOrgScope, warehouse: Warehouse, clock: Clock,
               month_text: Annotated[str | None, Query(alias="month", max_length=16)] = None) -> HTMLResponse:
    """The billed cost of a month by model and by day, its total (month to date for the current month)."""
    org, now = scope.organization_id, clock()
    with warehouse.connection() as conn:
        chosen = month(month_text, default=_default_last_day(conn, org, now))
        days = chosen.days
        by_model = queries.cost_by_model(conn, org, days.start, days.end)
        by_day = queries.usage_by_bucket(conn, Granularity.DAILY, org, days.start, days.end)
        current = chosen.first <= now.date() <= chosen.last
        # The forecast of the current month as of yesterday at the latest (a day's forecast is made at its end).
        forecast = queries.month_forecast(conn, org, chosen.first, now.date() - timedelta(days=1)) \
            if current else None
        org_name = organization_names(conn, [org]).get(org)
        names = model_names(conn, [row.model_id for row in by_model])
    total = sum((row.cost_total for row in by_model), Decimal(0))
    buckets = days.buckets(False)
    cost_of = {row.bucket_start: row.cost_total for row in by_day}
    chart = time_chart(buckets, {"Cost (USD)": [cost_of.get(b, 0) for b in buckets]}, kind="bars", unit="USD")
    return render(request, "costs.html", {
        "org": org, "org_name": org_name, "model_names": names, "month": chosen,
        "by_model": by_model, "by_day": by_day, "total": total, "current": current,
        "now": now, "chart": chart, "model_less": MODEL_LESS_ID, "forecast": forecast,
        "share": {row.model_id: (100 * row.cost_total / total if total else None) for row in by_model}})
