"""Active users and active customers per day, computed in PostgreSQL from the raw events.

Definitions (a *user* is an ``(organization_id, user_id)`` pair: end users belong to their
tenant, so platform figures are sums over organizations):

* **DAU** of an organization and day: distinct users with at least one event that UTC day;
  **WAU** / **MAU**: distinct users with an event in the 7 / 30 days ending that day (exact,
  not estimated); **stickiness** = DAU / MAU.
* An organization is an **active customer** on a day with at least one event (with or without
  a user). It is **new** on its first active day ever, **reactivated** when it comes back after
  more than ``churn_days`` days without activity, **returning** otherwise (returning counts the
  reactivated too: active = new + returning).
* An organization **churns** on the day it completes ``churn_days`` days without activity (its
  last active day is that many days before); per month (to date): active in the previous
  month and not in this one (yet).

A window of days is replaced whole in one transaction: the user days, organization days and
platform days of the window are deleted and recomputed, then the trailing figures (WAU, MAU,
lifecycle, churn) of the already computed days up to 30 days after the window are refreshed,
since their windows hold the days that changed: restating a past day never leaves the days
after it stale. A window with a day whose raw events retention dropped is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import psycopg

from analytics_pipeline.warehouse.sql import fetch_row, fetch_rows, load_sql

#: The longest trailing window (MAU): the days after a recomputed window that are refreshed.
TRAILING_DAYS = 30
#: Up to this many days to refresh, WAU and MAU are counted day by day (hashing each day's 30 days of user
#: days: the daily run); beyond it, in one sorted pass over the user days (a backfill). Same figures.
BY_DAY_UP_TO = 3


class RawEventsDroppedError(RuntimeError):
    """A metrics window covers days whose raw events retention dropped: nothing was replaced."""

    def __init__(self, days: list[date]) -> None:
        self.days = days
        super().__init__(f"cannot recompute metrics over {len(days)} day(s) whose raw events retention dropped "
                         f"({', '.join(d.isoformat() for d in days)}); their rows are kept. Leave those days out.")


def refuse_dropped_days(conn: psycopg.Connection, start: datetime, end: datetime) -> None:
    """Raise :class:`RawEventsDroppedError` when ``[start, end)`` has a day without its raw events
    (the retention ledger's record of dropped partitions, the same the rollups consult)."""
    days = [day for (day,) in conn.execute(load_sql("rollups/raw_event_days_dropped"),
                                           {"range_start": start, "range_end": end}).fetchall()]
    if days:
        raise RawEventsDroppedError(days)


def day_bounds(start: datetime, end: datetime) -> tuple[date, date]:
    """The UTC days ``[first_day, end_day)`` of a window of whole days."""
    first_day = start.date()
    end_day = end.date() if end.time() == datetime.min.time() else end.date() + timedelta(days=1)
    return first_day, end_day


def day_slices(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` cut at UTC midnights. The statements that aggregate raw events run a day
    at a time (inside the window's one transaction): every day's groups then fit in ``work_mem``,
    where a month's would spill to disk."""
    slices = []
    cursor = start
    while cursor < end:
        midnight = datetime.combine(cursor.date() + timedelta(days=1), datetime.min.time(), cursor.tzinfo)
        slices.append((cursor, min(midnight, end)))
        cursor = min(midnight, end)
    return slices


def execute_by_day(conn: psycopg.Connection, statement, params: dict, start: datetime, end: datetime) -> int:
    """Run ``statement`` once per day slice of ``[start, end)`` (its ``range_start``/``range_end``);
    the rows it affected in all."""
    rows = 0
    for slice_start, slice_end in day_slices(start, end):
        rows += conn.execute(statement, {**params, "range_start": slice_start, "range_end": slice_end}).rowcount
    return rows


def set_work_mem(conn: psycopg.Connection, work_mem: str | None) -> None:
    """``work_mem`` for the current transaction only (sorts of a day stay in memory)."""
    if work_mem:
        conn.execute("SELECT set_config('work_mem', %s, true)", (work_mem,))


@dataclass(frozen=True)
class ActivitySummary:
    """What an activity run wrote, and the platform's figures on the window's last day."""

    organization_days: int
    user_days: int
    request_count: int
    last_day: date | None
    active_customers: int
    new_customers: int
    returning_customers: int
    reactivated_customers: int
    churned_customers: int
    month_active_customers: int
    month_new_customers: int
    month_churned_customers: int
    dau: int
    wau: int
    mau: int
    stickiness: float | None


def replace_activity(conn: psycopg.Connection, start: datetime, end: datetime, *, churn_days: int,
                     work_mem: str | None = None, by_day_up_to: int = BY_DAY_UP_TO) -> ActivitySummary:
    """Recompute the activity of the days of ``[start, end)`` (and refresh the trailing figures
    of the computed days after it) in one transaction; ``churn_days``: days without activity
    after which an organization has churned; ``by_day_up_to``: see :data:`BY_DAY_UP_TO`."""
    first_day, end_day = day_bounds(start, end)
    params = {"range_start": start, "range_end": end, "first_day": first_day, "end_day": end_day,
              "refresh_end": end_day + timedelta(days=TRAILING_DAYS), "churn_days": churn_days}
    with conn.transaction():
        refuse_dropped_days(conn, start, end)
        set_work_mem(conn, work_mem)
        conn.execute(load_sql("metrics/delete_activity"), params)
        for statement in ("insert_user_activity", "insert_org_activity"):  # the user days first: DAU
            execute_by_day(conn, load_sql(f"metrics/{statement}"), params, start, end)
        conn.execute(load_sql("metrics/insert_customer_activity_days"), params)
        days = conn.execute(load_sql("metrics/days_to_refresh"), params).fetchone()[0]
        trailing = "refresh_trailing_activity_by_day" if days <= by_day_up_to else "refresh_trailing_activity"
        for statement in (trailing, "refresh_lifecycle", "refresh_customer_activity"):
            conn.execute(load_sql(f"metrics/{statement}"), params)
        summary = fetch_row(conn, "metrics/activity_summary", params, ActivitySummary)
    return summary or ActivitySummary(0, 0, 0, None, *([0] * 11), None)


@dataclass(frozen=True)
class OrganizationActivity:
    organization_id: str
    active_users: int
    wau: int | None
    mau: int | None
    stickiness: float | None
    request_count: int
    lifecycle: str | None


def top_organizations_by_active_users(conn: psycopg.Connection, day: date, limit: int = 10) -> list[
        OrganizationActivity]:
    """The organizations with the most active users on ``day``."""
    return fetch_rows(conn, "metrics/top_organizations_by_active_users", {"day": day, "limit": limit},
                      OrganizationActivity)


def stale_activity_days(conn: psycopg.Connection, days: list[date]) -> list[date]:
    """The days among ``days`` whose daily metrics were computed before their daily rollups, or not
    at all (sql/metrics/stale_activity_days.sql)."""
    if not days:
        return []
    return [day for (day,) in conn.execute(load_sql("metrics/stale_activity_days"), {"days": list(days)})]
