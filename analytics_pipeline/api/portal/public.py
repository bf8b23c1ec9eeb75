"""The public status page, ``/portal/status``: no key, platform-wide, nothing of any tenant.

It reads only the hourly SRE metrics of every organization together (``organization_id`` NULL):
per endpoint, the availability (requests served without a 5xx) of each hour and each day of the
last 90 days, and the current state by the rules of :mod:`.status`. What it computes is kept for
:data:`CACHE_SECONDS` (the same for every visitor), and browsers may keep the page as long."""

from __future__ import annotations

import threading
import time as monotonic
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from analytics_pipeline.api.deps import Clock, Warehouse
from analytics_pipeline.api.errors import ApiError
from analytics_pipeline.api.portal import queries, status
from analytics_pipeline.api.portal.charts import time_chart
from analytics_pipeline.api.portal.pages import render
from analytics_pipeline.api.portal.status import HISTORY_DAYS, LABELS, WINDOW_HOURS, Tally

router = APIRouter(prefix="/portal", include_in_schema=False)
CACHE_SECONDS = 30
_cache: dict[tuple, tuple[float, dict]] = {}
_cache_lock = threading.Lock()


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def status_figures(conn, now: datetime, day: date | None) -> dict:
    """Everything the page shows, as of ``now`` (the hourly table of ``day``, default the last day with data)."""
    current_hour = _hour(now)
    end = current_hour + timedelta(hours=1)
    first_day = now.date() - timedelta(days=HISTORY_DAYS - 1)
    start = datetime.combine(first_day, time(), UTC)
    rows = queries.status_hours(conn, start, end)
    latest = queries.latest_sre_hour(conn, end)
    window_start = current_hour - timedelta(hours=WINDOW_HOURS - 1)
    endpoints: dict[str, dict] = {}
    for row in rows:
        entry = endpoints.setdefault(row.endpoint, {"hours": {}, "days": {}, "window": Tally(), "total": Tally()})
        tally = Tally(row.request_count, row.server_errors)
        entry["hours"][row.bucket_start] = tally
        day_of = row.bucket_start.date()
        entry["days"][day_of] = entry["days"].get(day_of, Tally()) + tally
        entry["total"] = entry["total"] + tally
        if row.bucket_start >= window_start:
            entry["window"] = entry["window"] + tally
    names = sorted(endpoints, key=lambda name: -endpoints[name]["total"].requests)
    days = [first_day + timedelta(days=i) for i in range(HISTORY_DAYS)]
    platform_days = {d: sum((endpoints[n]["days"].get(d, Tally()) for n in names), Tally()) for d in days}
    shown_day = day or (latest.date() if latest else now.date())
    hours = [datetime.combine(shown_day, time(hour), UTC) for hour in range(24)]
    buckets = [start + timedelta(hours=i) for i in range(int((end - start) / timedelta(hours=1)))]
    chart = time_chart(buckets, {name: [_rounded(endpoints[name]["hours"].get(b, Tally()).availability)
                                        for b in buckets] for name in names[:8]}, unit="% available", percent=True)
    return {
        "now": now, "window_start": window_start, "latest": latest, "names": names, "endpoints": endpoints,
        "state": status.worst(endpoints[name]["window"].state for name in names), "days": list(reversed(days)),
        "platform_days": platform_days, "shown_day": shown_day, "hours": hours, "chart": chart,
        "has_data": bool(rows), "first_day": first_day}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _cached(key: tuple, compute) -> dict:
    with _cache_lock:
        hit = _cache.get(key)
        if hit and monotonic.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
    figures = compute()
    with _cache_lock:
        if len(_cache) > 64:
            _cache.clear()
        _cache[key] = (monotonic.monotonic(), figures)
    return figures


@router.get("/status", name="portal_status", response_class=HTMLResponse)
def status_page(request: Request, warehouse: Warehouse, clock: Clock,
                day: Annotated[str | None, Query(max_length=32, description="The day of the hourly table.")] = None
                ) -> HTMLResponse:
    """The platform's availability per endpoint, hour and day over the last 90 days, and its state now."""
    try:
        chosen = date.fromisoformat(day) if day else None
    except ValueError:
        raise ApiError(422, "invalid_date", f"day {day[:40]!r} is not a date (YYYY-MM-DD)") from None
    now = clock()

    def compute() -> dict:
        with warehouse.connection() as conn:
            return status_figures(conn, now, chosen)

    figures = _cached((id(request.app), now.replace(second=0, microsecond=0), chosen), compute)
    return render(request, "status.html", {**figures, "labels": LABELS, "rules": status},
                  cache=f"public, max-age={CACHE_SECONDS}")
