"""The internal pages, for a finance-wide key's session (:data:`InternalSession`): business
(active customers, MAU, MRR, usage trend, top customers, profitability, health scores and the
at-risk list) and SRE (latency, error rates by type, queue wait, concurrent sessions, agents),
from the business, customer and SRE metrics and their dashboard views."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from analytics_pipeline.api.deps import Clock, InternalSession, Warehouse
from analytics_pipeline.api.portal import queries
from analytics_pipeline.api.portal.charts import time_chart
from analytics_pipeline.api.portal.pages import render
from analytics_pipeline.api.portal.ranges import MAX_HOURLY_DAYS, day_range, month

router = APIRouter(prefix="/portal/internal", include_in_schema=False)
DayText = Annotated[str | None, Query(max_length=32, description="A UTC day, YYYY-MM-DD.")]
AT_RISK_BANDS = ("at_risk", "critical")


def _total(values) -> Decimal:
    return sum((value for value in values if value is not None), Decimal(0))


@router.get("/business", name="portal_business", response_class=HTMLResponse)
def business_page(request: Request, session: InternalSession, warehouse: Warehouse, clock: Clock,
                  month_text: Annotated[str | None, Query(alias="month", max_length=16)] = None) -> HTMLResponse:
    """A month of the business: customers, MAU, MRR, margin, the daily trend, top customers, health."""
    now = clock()
    with warehouse.connection() as conn:
        chosen = month(month_text, default=queries.latest_revenue_month(conn, now.date()) or now.date())
        customers = queries.business_customers(conn, chosen.first)
        days = queries.business_days(conn, chosen.first, chosen.last + timedelta(days=1))
        health = queries.customer_health(conn, chosen.first, min(chosen.last, now.date()))
        ranked = queries.top_customers(conn, chosen.first)
    mrr = _total(c.mrr for c in customers)
    # None: no cost attributed yet (no infrastructure costs loaded for the month); the margin is then the MRR.
    cost = _total(c.attributed_cost for c in customers) \
        if any(c.attributed_cost is not None for c in customers) else None
    margin = mrr - (cost or 0)
    last = days[-1] if days else None
    kpis = {"active_customers": last.month_active_customers if last else sum(1 for c in customers
                                                                             if c.request_count > 0),
            "mau": last.mau if last else None, "mrr": mrr, "attributed_cost": cost, "margin": margin,
            "margin_pct": 100 * margin / mrr if mrr else None, "at_day": last.day if last else None}
    buckets = [datetime.combine(d.day, time(), UTC) for d in days]
    chart = time_chart(buckets, {"Requests": [d.request_count for d in days],
                                 "Active customers": [d.active_customers for d in days],
                                 "DAU": [d.dau for d in days]},
                       kind="bars", unit="requests", right={"Active customers": "customers, users",
                                                            "DAU": "customers, users"})
    return render(request, "business.html", {
        "month": chosen, "customers": customers, "days": days, "health": health, "kpis": kpis, "chart": chart,
        "at_risk": [h for h in health if h.band in AT_RISK_BANDS or h.churn_signal],
        "top": {ranking: [r for r in ranked if r.ranking == ranking] for ranking in ("revenue", "usage")}})


def _worst(values) -> float | None:
    present = [value for value in values if value is not None]
    return max(present) if present else None


@router.get("/sre", name="portal_sre", response_class=HTMLResponse)
def sre_page(request: Request, session: InternalSession, warehouse: Warehouse, clock: Clock,
             start: DayText = None, end: DayText = None) -> HTMLResponse:
    """Per hour, every organization together: latency and queue wait per endpoint, error rates by type,
    concurrent sessions, agents."""
    now = clock()
    with warehouse.connection() as conn:
        latest = queries.latest_sre_hour(conn, datetime.combine(now.date() + timedelta(days=1), time(), UTC))
        window = day_range(start, end, default_last=latest.date() if latest else now.date(),
                           max_days=MAX_HOURLY_DAYS, default_days=7)
        hours = queries.sre_hours(conn, window.start, window.end)
        errors = queries.error_types(conn, window.start, window.end)
        agents = queries.agent_hours(conn, window.start, window.end)
        sessions = queries.session_hours(conn, window.start, window.end)
        peaks = queries.session_peaks(conn, window.start, window.end)
    by_endpoint: dict[str, list[queries.SreHour]] = {}
    for row in hours:
        by_endpoint.setdefault(row.endpoint, []).append(row)
    endpoints = sorted(({
        "endpoint": name, "request_count": sum(r.request_count for r in rows),
        "status_4xx": sum(r.status_4xx for r in rows), "status_5xx": sum(r.status_5xx for r in rows),
        "rate_limited": sum(r.rate_limited_count for r in rows),
        "p50": _worst(r.latency_p50_ms for r in rows), "p95": _worst(r.latency_p95_ms for r in rows),
        "p99": _worst(r.latency_p99_ms for r in rows), "queue_p50": _worst(r.queue_wait_p50_ms for r in rows),
        "queue_p95": _worst(r.queue_wait_p95_ms for r in rows), "queue_p99": _worst(r.queue_wait_p99_ms for r in rows),
    } for name, rows in by_endpoint.items()), key=lambda item: -item["request_count"])
    requests = sum(item["request_count"] for item in endpoints)
    buckets = window.buckets(True)
    index = {(r.endpoint, r.bucket_start): r for r in hours}
    latency_chart = time_chart(buckets, {item["endpoint"]: [
        getattr(index.get((item["endpoint"], b)), "latency_p95_ms", None) for b in buckets]
        for item in endpoints[:8]}, unit="ms")
    per_hour = {}
    for row in hours:
        tally = per_hour.setdefault(row.bucket_start, [0, 0, 0])
        tally[0] += row.request_count
        tally[1] += row.status_4xx
        tally[2] += row.status_5xx
    error_chart = time_chart(buckets, {
        "4xx %": [round(100 * per_hour[b][1] / per_hour[b][0], 3) if per_hour.get(b, [0])[0] else None
                  for b in buckets],
        "5xx %": [round(100 * per_hour[b][2] / per_hour[b][0], 3) if per_hour.get(b, [0])[0] else None
                  for b in buckets]}, unit="% of requests", percent=True)
    session_of = {s.bucket_start: s for s in sessions}
    session_chart = time_chart(buckets, {
        "Highest peak of one organization": [getattr(session_of.get(b), "highest_peak", None) for b in buckets],
        "Organizations' peaks added up": [getattr(session_of.get(b), "summed_peaks", None) for b in buckets]},
        unit="concurrent sessions")
    by_agent: dict[str, list[queries.AgentHour]] = {}
    for row in agents:
        by_agent.setdefault(row.agent_type, []).append(row)
    agent_summary = sorted(({
        "agent_type": name, "invocations": sum(r.invocations for r in rows), "failures": sum(r.failures for r in rows),
        "server_failures": sum(r.server_failures for r in rows), "p50": _worst(r.duration_p50_ms for r in rows),
        "p95": _worst(r.duration_p95_ms for r in rows), "p99": _worst(r.duration_p99_ms for r in rows),
    } for name, rows in by_agent.items()), key=lambda item: -item["invocations"])
    return render(request, "sre.html", {
        "window": window, "endpoints": endpoints, "requests": requests, "errors": errors, "agents": agent_summary,
        "sessions": sessions, "peaks": peaks, "latency_chart": latency_chart, "error_chart": error_chart,
        "session_chart": session_chart, "has_data": bool(hours), "latest": latest})
