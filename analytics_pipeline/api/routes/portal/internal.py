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
from analytics_pipeline.api.portal.ranges import MAX_HOURLY_DAYS, day_range, end_of_today, month
from analytics_pipeline.api.routes.portal import oncall
from analytics_pipeline.costs.profitability import margin_percent
from analytics_pipeline.directory.names import organization_names

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
        # Cost no billed organization carries is a line of its own: the totals hold every attributed cent.
        without_customer = queries.costs_without_customer(conn, chosen.first)
        names = organization_names(conn, [*(c.organization_id for c in customers), *(h.organization_id for h in health),
                                          *(r.organization_id for r in ranked),
                                          *(w.organization_id for w in without_customer)])
    mrr = _total(c.mrr for c in customers)
    # None: no cost attributed yet (no infrastructure costs loaded for the month); the margin is then the MRR.
    lines = [*customers, *without_customer]
    cost = _total(line.attributed_cost for line in lines) \
        if any(line.attributed_cost is not None for line in lines) else None
    margin = mrr - (cost or 0)
    last = days[-1] if days else None
    kpis = {"active_customers": last.month_active_customers if last else sum(1 for c in customers
                                                                             if c.request_count > 0),
            "mau": last.mau if last else None, "mrr": mrr, "attributed_cost": cost, "margin": margin,
            "margin_pct": margin_percent(mrr, margin), "at_day": last.day if last else None}
    buckets = [datetime.combine(d.day, time(), UTC) for d in days]
    chart = time_chart(buckets, {"Requests": [d.request_count for d in days],
                                 "Active customers": [d.active_customers for d in days],
                                 "DAU": [d.dau for d in days]},
                       kind="bars", unit="requests", right={"Active customers": "customers, users",
                                                            "DAU": "customers, users"})
    return render(request, "business.html", {
        "month": chosen, "customers": customers, "without_customer": without_customer, "lines": lines, "names": names,
        "days": days, "health": health, "kpis": kpis, "chart": chart,
        "at_risk": [h for h in health if h.band in AT_RISK_BANDS or h.churn_signal],
        "top": {ranking: [r for r in ranked if r.ranking == ranking] for ranking in ("revenue", "usage")}})


@router.get("/sre", name="portal_sre", response_class=HTMLResponse)
def sre_page(request: Request, session: InternalSession, warehouse: Warehouse, clock: Clock,
             start: DayText = None, end: DayText = None) -> HTMLResponse:
    """Per hour, every organization together: latency and queue wait per endpoint, error rates by type,
    concurrent sessions, agents."""
    now = clock()
    with warehouse.connection() as conn:
        latest = queries.latest_sre_hour(conn, end_of_today(now))
        window = day_range(start, end, default_last=latest.date() if latest else now.date(),
                           max_days=MAX_HOURLY_DAYS, default_days=7)
        endpoints = queries.sre_endpoints(conn, window.start, window.end)
        hours = queries.sre_hours(conn, window.start, window.end)
        errors = queries.error_types(conn, window.start, window.end)
        agents = queries.agent_types(conn, window.start, window.end)
        sessions = queries.session_hours(conn, window.start, window.end)
        peaks = queries.session_peaks(conn, window.start, window.end)
        on_call = oncall.sre_panel(conn, now)  # open alerts, system health
        names = organization_names(conn, [p.organization_id for p in peaks])
    requests = sum(e.request_count for e in endpoints)
    buckets = window.buckets(True)
    p95: dict[str, dict[datetime, float | None]] = {e.endpoint: {} for e in endpoints[:8]}
    per_hour: dict[datetime, list[int]] = {}
    for endpoint, bucket, count, status_4xx, status_5xx, latency_p95 in hours:
        if endpoint in p95:
            p95[endpoint][bucket] = latency_p95
        tally = per_hour.get(bucket)
        if tally is None:
            tally = per_hour[bucket] = [0, 0, 0]
        tally[0] += count
        tally[1] += status_4xx
        tally[2] += status_5xx

    def share(bucket: datetime, column: int) -> float | None:
        tally = per_hour.get(bucket)
        return round(100 * tally[column] / tally[0], 3) if tally and tally[0] else None

    latency_chart = time_chart(buckets, {name: list(map(by_hour.get, buckets)) for name, by_hour in p95.items()},
                               unit="ms")
    error_chart = time_chart(buckets, {"4xx %": [share(b, 1) for b in buckets],
                                       "5xx %": [share(b, 2) for b in buckets]}, unit="% of requests", percent=True)
    session_of = {s.bucket_start: s for s in sessions}
    session_chart = time_chart(buckets, {
        "Highest peak of one organization": [getattr(session_of.get(b), "highest_peak", None) for b in buckets],
        "Organizations' peaks added up": [getattr(session_of.get(b), "summed_peaks", None) for b in buckets]},
        unit="concurrent sessions")
    return render(request, "sre.html", {
        "window": window, "endpoints": endpoints, "requests": requests, "errors": errors, "agents": agents,
        "sessions": sessions, "peaks": peaks, "latency_chart": latency_chart, "error_chart": error_chart,
        "session_chart": session_chart, "has_data": bool(endpoints), "latest": latest, "names": names,
        **on_call})
