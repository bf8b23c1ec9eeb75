"""The public status page, ``/portal/status``: no key, platform-wide, nothing of any tenant.

It reads only the hourly SRE metrics of every organization together (``organization_id`` NULL):
per endpoint, the availability (requests served without a 5xx) of each hour and each day of the
last 90 days, and the current state by the rules of :mod:`.status`. The page is the same for
every visitor (no session, no tenant on it): it is rendered once per :data:`CACHE_SECONDS` per
process and minute of the clock, and browsers may keep it as long."""

from __future__ import annotations

import threading
import time as monotonic
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from analytics_pipeline.api.deps import Clock, OptionalPortalSession, Services, Warehouse
from analytics_pipeline.api.portal import queries, status
from analytics_pipeline.api.portal.charts import time_chart
from analytics_pipeline.api.portal.pages import render
from analytics_pipeline.api.portal.ranges import parse_day
from analytics_pipeline.api.portal.status import HISTORY_DAYS, LABELS, WINDOW_HOURS, Tally
from analytics_pipeline.api.routes.portal import oncall

router = APIRouter(prefix="/portal", include_in_schema=False)
CACHE_SECONDS = 30
_cache_lock = threading.Lock()


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def status_figures(conn, now: datetime, day: date | None) -> dict:
    """Everything the page shows, as of ``now`` (the hourly table of ``day``, default the last day with data).
    Plain integer sums per row (a 90-day page adds up some 15,000 hourly rows); tallies only per day."""
    current_hour = _hour(now)
    end = current_hour + timedelta(hours=1)
    first_day = now.date() - timedelta(days=HISTORY_DAYS - 1)
    start = datetime.combine(first_day, time(), UTC)
    rows = queries.status_hours(conn, start, end)
    latest = queries.latest_sre_hour(conn, end)
    window_start = current_hour - timedelta(hours=WINDOW_HOURS - 1)
    sums: dict[str, dict] = {}
    for endpoint, bucket, requests, failures in rows:
        entry = sums.get(endpoint)
        if entry is None:
            entry = sums[endpoint] = {"hours": {}, "days": {}, "window": [0, 0], "total": [0, 0], "percent": {}}
        entry["hours"][bucket] = Tally(requests, failures)
        if requests:
            entry["percent"][bucket] = round(100.0 * (requests - failures) / requests, 3)
        day_sum = entry["days"].setdefault(bucket.date(), [0, 0])
        day_sum[0] += requests
        day_sum[1] += failures
        entry["total"][0] += requests
        entry["total"][1] += failures
        if bucket >= window_start:
            entry["window"][0] += requests
            entry["window"][1] += failures
    endpoints = {name: {"hours": entry["hours"], "percent": entry["percent"], "window": Tally(*entry["window"]),
                        "total": Tally(*entry["total"]),
                        "days": {d: Tally(*pair) for d, pair in entry["days"].items()}}
                 for name, entry in sums.items()}
    names = sorted(endpoints, key=lambda name: -endpoints[name]["total"].requests)
    days = [first_day + timedelta(days=i) for i in range(HISTORY_DAYS)]
    platform_days = {}
    for d in days:
        pairs = [endpoints[n]["days"][d] for n in names if d in endpoints[n]["days"]]
        platform_days[d] = Tally(sum(t.requests for t in pairs), sum(t.server_errors for t in pairs))
    shown_day = day or (latest.date() if latest else now.date())
    hours = [datetime.combine(shown_day, time(hour), UTC) for hour in range(24)]
    buckets = [start + timedelta(hours=i) for i in range(int((end - start) / timedelta(hours=1)))]
    chart = time_chart(buckets, {name: list(map(endpoints[name]["percent"].get, buckets)) for name in names[:8]},
                       unit="% available", percent=True)
    return {
        "now": now, "window_start": window_start, "latest": latest, "names": names, "endpoints": endpoints,
        "state": status.worst(endpoints[name]["window"].state for name in names), "days": list(reversed(days)),
        "platform_days": platform_days, "shown_day": shown_day, "hours": hours, "chart": chart,
        "has_data": bool(rows), "first_day": first_day}


def _cached(cache: dict, key: tuple, compute) -> dict:
    """``compute()``, kept in the app's ``cache`` for CACHE_SECONDS under ``key``."""
    with _cache_lock:
        hit = cache.get(key)
        if hit and monotonic.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
    value = compute()
    with _cache_lock:
        if len(cache) > 64:
            cache.clear()
        cache[key] = (monotonic.monotonic(), value)
    return value


@router.get("/status", name="portal_status", response_class=HTMLResponse)
def status_page(request: Request, services: Services, warehouse: Warehouse, clock: Clock,
                session: OptionalPortalSession,
                day: Annotated[str | None, Query(max_length=32, description="The day of the hourly table.")] = None
                ) -> HTMLResponse:
    """The platform's availability per endpoint, hour and day over the last 90 days, and its state now."""
    chosen = parse_day(day, "day") if day else None
    now = clock()

    def compute() -> dict:
        with warehouse.connection() as conn:
            figures = status_figures(conn, now, chosen)
            return {**figures, **oncall.status_incidents(conn, figures)}

    def page() -> dict:
        # Vary: Cookie, so a browser that signs in does not keep showing the anonymous page from its cache.
        response = render(request, "status.html", {**compute(), "labels": LABELS, "rules": status},
                          cache=f"public, max-age={CACHE_SECONDS}", headers={"Vary": "Cookie"})
        return {"body": response.body, "headers": dict(response.headers)}

    minute = now.replace(second=0, microsecond=0)
    if session is not None:
        # A signed-in visitor keeps the navigation (their session's): the same figures, rendered for that session
        # only and kept for it as long as the anonymous page (never shared: Cache-Control no-store).
        def session_page() -> dict:
            figures = _cached(services.status_cache, ("figures", minute, chosen), compute)
            response = render(request, "status.html", {**figures, "labels": LABELS, "rules": status})
            return {"body": response.body, "headers": dict(response.headers)}

        cached = _cached(services.status_cache, ("session", session.session_id, minute, chosen), session_page)
        return HTMLResponse(cached["body"], headers={k: v for k, v in cached["headers"].items()
                                                     if k.lower() not in ("content-length", "content-type")})
    # The page is the same for every anonymous visitor (it shows no session, no tenant): kept whole, rendered.
    cached = _cached(services.status_cache, (minute, chosen), page)
    return HTMLResponse(cached["body"], headers={k: v for k, v in cached["headers"].items()
                                                 if k.lower() not in ("content-length", "content-type")})
