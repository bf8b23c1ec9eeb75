"""Usage rollups per (bucket, organization, model), computed in PostgreSQL.

A window is replaced whole in one transaction (delete, then insert), so a re-materialization
or a late-data restatement is idempotent. Hourly rows come from the raw events in one sorted
pass (sql/rollups/replace_hourly_rollups.sql), with exact percentiles and a latency sketch
(rollups/latency.py); daily rows add up the day's hourly rows and merge their sketches into the
day's percentiles, reading no raw event (sql/rollups/replace_daily_rollups.sql). Any range's
percentiles merge the sketches too (range_latency).
A long window (a month backfill) is replaced day by day on several connections at once,
each day in its own transaction: the server's cores share the work, and every partition is
still replaced whole or not at all.

Rollups are kept longer (13 whole months) than the raw events they come from (400 days):
a window with a day whose raw partition retention dropped is refused whole
(``RawEventsDroppedError``) before anything is deleted, so a rebuild never wipes rollups
that can no longer be recomputed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
from psycopg import sql

from analytics_pipeline.delivery.ledger import hours_behind_ledger
from analytics_pipeline.warehouse.sql import compose_sql, fetch_row, fetch_rows, load_sql


class Granularity(enum.StrEnum):
    HOURLY = "hourly"
    DAILY = "daily"

    @property
    def table(self) -> str:
        return {"hourly": "analytics_hourly_rollups", "daily": "analytics_daily_rollups"}[self.value]

    @property
    def bucket(self) -> str:
        return {"hourly": "hour", "daily": "day"}[self.value]


class RawEventsDroppedError(RuntimeError):
    """A rollup window covers days whose raw events retention dropped: nothing was replaced."""

    def __init__(self, days: list[date], start: datetime, end: datetime) -> None:
        self.days = days
        self.start = start
        self.end = end
        shown = ", ".join(day.isoformat() for day in days)
        super().__init__(
            f"cannot rebuild rollups of [{start.isoformat()}, {end.isoformat()}): retention dropped the raw "
            f"events of {len(days)} day(s) in it ({shown}; their Parquet archives are listed in "
            "analytics_raw_archives). Rebuilding would wipe those days' rollups, so nothing in the window was "
            "replaced; their existing rollups stay until rollup retention. Leave those days out of the window.")


def raw_event_days_dropped(conn: psycopg.Connection, start: datetime, end: datetime) -> list[date]:
    """Days overlapping ``[start, end)`` whose raw-event partitions retention has dropped."""
    rows = conn.execute(load_sql("rollups/raw_event_days_dropped"), {"range_start": start, "range_end": end})
    return [day for (day,) in rows.fetchall()]


class MissingPriceError(Exception):
    """Events of the window have no price in effect: they would be billed nothing. Nothing is replaced."""

    def __init__(self, unpriced: list[tuple[str | None, datetime, int]], start: datetime, end: datetime) -> None:
        self.unpriced = unpriced
        shown = ", ".join(f"{model or '(no model)'} from {first:%Y-%m-%d %H:%M} UTC ({count:,} events)"
                          for model, first, count in unpriced[:5])
        super().__init__(f"{sum(c for *_, c in unpriced):,} events between {start:%Y-%m-%d %H:%M} and "
                         f"{end:%Y-%m-%d %H:%M} UTC have no price in effect: {shown}. Load the price catalog "
                         "(materialize model_prices, ANALYTICS_PRICE_CATALOG) or add those prices; no rollup "
                         "was replaced.")


def refuse_unpriced_events(conn: psycopg.Connection, start: datetime, end: datetime) -> None:
    """Raise ``MissingPriceError`` when an event of ``[start, end)`` has no price in effect.
    With the '*' default price in effect from ``start`` on, no event needs to be read."""
    params = {"range_start": start, "range_end": end}
    if conn.execute(load_sql("rollups/default_price_covers"), params).fetchone()[0]:
        return
    unpriced = conn.execute(compose_sql("rollups/unpriced_events", price_periods=_price_periods()), params).fetchall()
    if unpriced:
        raise MissingPriceError(unpriced, start, end)


def refuse_dropped_days(conn: psycopg.Connection, start: datetime, end: datetime) -> None:
    """Raise ``RawEventsDroppedError`` when ``[start, end)`` has a day without its raw events."""
    days = raw_event_days_dropped(conn, start, end)
    if days:
        raise RawEventsDroppedError(days, start, end)


def rollup_sql(name: str, granularity: Granularity) -> sql.Composed:
    """A rollup query for ``granularity``: its table and bucket fixed by the Granularity enum."""
    return compose_sql(name, rollup_table=sql.Identifier(granularity.table), bucket=sql.Literal(granularity.bucket),
                       priced_events=compose_sql("rollups/priced_events", price_periods=_price_periods()))


def _price_periods() -> sql.Composed:
    return compose_sql("rollups/price_periods")


def replace_rollups_sql(granularity: Granularity) -> sql.Composed:
    """The INSERT that recomputes the ``granularity`` rollups of a window (after their DELETE)."""
    return compose_sql(f"rollups/replace_{granularity.value}_rollups", price_periods=_price_periods())


@dataclass(frozen=True)
class RollupTotals:
    row_count: int
    organizations: int
    request_count: int
    tokens_total: int
    error_count: int
    cost_total: Decimal


def rollup_totals(conn: psycopg.Connection, granularity: Granularity, start: datetime, end: datetime) -> RollupTotals:
    return fetch_row(conn, rollup_sql("rollups/usage_rollup_totals", granularity),
                     {"range_start": start, "range_end": end}, RollupTotals)


def replace_usage_rollups(conn: psycopg.Connection, granularity: Granularity, start: datetime,
                          end: datetime, *, work_mem: str | None = None) -> RollupTotals:
    """Recompute the rollups of ``[start, end)`` in one transaction (daily rows need the day's
    hourly rows first). ``work_mem`` (e.g. ``"256MB"``) is set for this transaction only, so
    a day's sort stays in memory instead of spilling to disk."""
    params = {"range_start": start, "range_end": end}
    with conn.transaction():
        refuse_dropped_days(conn, start, end)
        if granularity is Granularity.HOURLY:  # daily cost is the sum of the hours'
            refuse_unpriced_events(conn, start, end)
        if work_mem:
            conn.execute("SELECT set_config('work_mem', %s, true)", (work_mem,))
        conn.execute(rollup_sql("rollups/delete_usage_rollups", granularity), params)
        conn.execute(replace_rollups_sql(granularity), params)
        return rollup_totals(conn, granularity, start, end)


def day_slices(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` cut at UTC midnights: whole days, plus partial ends where the window has them."""
    slices = []
    cursor = start
    while cursor < end:
        midnight = cursor.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        slices.append((cursor, min(midnight, end)))
        cursor = min(midnight, end)
    return slices


def replace_usage_rollups_by_day(open_connection: Callable[[], AbstractContextManager[psycopg.Connection]],
                                 granularity: Granularity, start: datetime, end: datetime, *,
                                 workers: int, work_mem: str | None = None) -> RollupTotals:
    """Recompute the rollups of ``[start, end)`` one day per transaction, ``workers`` days at a time.

    Each day is replaced whole, so a failure leaves every partition either old or new (the
    retry replaces the rest); the first error is raised once the other workers stop. A window
    with a day whose raw events were dropped is refused before any day is touched.
    """
    with open_connection() as conn:
        refuse_dropped_days(conn, start, end)
        if granularity is Granularity.HOURLY:
            refuse_unpriced_events(conn, start, end)
    slices = day_slices(start, end)
    shares = [slices[i::max(1, workers)] for i in range(min(max(1, workers), len(slices)))]

    def replace_share(share: list[tuple[datetime, datetime]]) -> None:
        with open_connection() as conn:
            for slice_start, slice_end in share:
                replace_usage_rollups(conn, granularity, slice_start, slice_end, work_mem=work_mem)

    if len(shares) <= 1:
        for share in shares:
            replace_share(share)
    else:
        with ThreadPoolExecutor(max_workers=len(shares), thread_name_prefix="rollup") as pool:
            for future in [pool.submit(replace_share, share) for share in shares]:
                future.result()
    with open_connection() as conn:
        return rollup_totals(conn, granularity, start, end)


@dataclass(frozen=True)
class EndpointRollupSummary:
    row_count: int
    endpoints: int
    request_count: int
    server_error_count: int
    worst_p99_ms: float | None


def replace_endpoint_rollups(conn: psycopg.Connection, start: datetime, end: datetime) -> EndpointRollupSummary:
    """Recompute the per-endpoint daily performance rollups of ``[start, end)`` in one transaction
    (refused, changing nothing, when a day of the window has had its raw events dropped)."""
    params = {"range_start": start, "range_end": end}
    with conn.transaction():
        refuse_dropped_days(conn, start, end)
        conn.execute(load_sql("rollups/delete_endpoint_rollups"), params)
        conn.execute(load_sql("rollups/replace_endpoint_rollups"), params)
        return fetch_row(conn, "rollups/endpoint_rollup_summary", params, EndpointRollupSummary)


def stale_hours(conn: psycopg.Connection, hours: list[datetime]) -> list[datetime]:
    """The hours among ``hours`` whose hourly rollups lag their events: their requests differ from
    the ingest ledger's events (delivery.ledger.hours_behind_ledger)."""
    return hours_behind_ledger(conn, hours, compose_sql("rollups/hourly_rollup_requests"))


@dataclass(frozen=True)
class UsageRow:
    """One rollup row of an organization: a bucket and model (None: requests without a model)."""

    bucket_start: datetime
    model_id: str | None
    request_count: int
    tokens_input: int
    tokens_output: int
    tokens_total: int
    error_count: int
    cost_total: Decimal
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None


def usage_series(conn: psycopg.Connection, granularity: Granularity, organization_id: str, start: datetime,
                 end: datetime) -> list[UsageRow]:
    """An organization's rollup rows of ``[start, end)``, by bucket then model (the export API's usage)."""
    return fetch_rows(conn, rollup_sql("rollups/usage_series", granularity),
                      {"organization_id": organization_id, "range_start": start, "range_end": end}, UsageRow)


@dataclass(frozen=True)
class RangeLatency:
    """Latency percentiles of a whole range, merged from the rollups' sketches (within 1 % of exact,
    rollups/latency.py), and the requests they rest on (0: no request had a duration)."""

    request_count: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None


def whole_days(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The whole UTC days inside ``[start, end)`` as ``[days_start, days_end)``; an empty pair at
    ``start`` when there is none (the whole range is then read hour by hour)."""
    days_start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    if days_start < start:
        days_start += timedelta(days=1)
    days_end = end.replace(hour=0, minute=0, second=0, microsecond=0)
    return (days_start, days_end) if days_start < days_end else (start, start)


def range_latency(conn: psycopg.Connection, organization_id: str, start: datetime, end: datetime) -> RangeLatency:
    """An organization's p50/p95/p99 over ``[start, end)`` (every model): its daily sketches for the
    whole days and its hourly sketches for the hours around them, merged in PostgreSQL. A whole day
    whose daily rollup has not run yet is merged from its hourly rows, so every rolled-up request counts."""
    days_start, days_end = whole_days(start, end)
    count, percentiles = conn.execute(load_sql("rollups/range_latency"), {
        "organization_id": organization_id, "range_start": start, "range_end": end,
        "days_start": days_start, "days_end": days_end}).fetchone()
    return RangeLatency(count, *(percentiles or (None, None, None)))


#: The live usage reads at most this far back (a stalled daemon must not turn every usage
#: request into a scan of weeks of raw events): older buckets wait for their rollups.
LIVE_USAGE_LOOKBACK = timedelta(days=2)


def live_usage_from(conn: psycopg.Connection, granularity: Granularity, now: datetime) -> datetime:
    """Where the provisional (live) buckets start: the first hour whose rollups lag the events the
    ingest ledger added to it (stale_hours, over the hours the ledger knows), or the first bucket
    the ``granularity`` rollups have not reached, whichever is earlier; never earlier than
    :data:`LIVE_USAGE_LOOKBACK` before ``now``. Daily: the day it falls in."""
    open_hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    floor = open_hour - LIVE_USAGE_LOOKBACK
    hours = [hour for (hour,) in conn.execute(load_sql("ingestion/ledger_hours_between"),
                                              {"range_start": floor, "range_end": open_hour})]
    candidates = stale_hours(conn, hours)[:1] if hours else []
    frontier = conn.execute(rollup_sql("rollups/rollups_frontier", granularity)).fetchone()[0]
    if frontier is not None:
        candidates.append(frontier)
    if not candidates:  # no rollups at all: everything in reach is live
        candidates.append(floor)
    live_from = max(min(candidates), floor)
    return live_from.replace(hour=0) if granularity is Granularity.DAILY else live_from


def live_usage_series(conn: psycopg.Connection, granularity: Granularity, organization_id: str, start: datetime,
                      end: datetime) -> list[UsageRow]:
    """An organization's usage of ``[start, end)`` from its raw events, in the rows of
    :func:`usage_series`: provisional figures for buckets not rolled up yet (the rollups stay the
    billing truth). ``cost_total`` is None for a bucket with an event without a price."""
    if start >= end:
        return []
    return fetch_rows(conn, rollup_sql("rollups/live_usage_series", granularity),
                      {"organization_id": organization_id, "range_start": start, "range_end": end}, UsageRow)
