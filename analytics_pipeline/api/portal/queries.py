"""What the pages read, through the SQL files of ``sql/portal/`` with bound parameters: the
rollups and the metrics tables, never the raw events. Each function takes a connection and
returns plain rows; the SQL text is composed once per process."""

from __future__ import annotations

import functools
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

import psycopg
from psycopg import sql

from analytics_pipeline.metrics.health import HealthScore
from analytics_pipeline.rollups.usage import Granularity, UsageRow, rollup_sql
from analytics_pipeline.warehouse.sql import compose_sql, fetch_row, fetch_rows, load_sql


@functools.cache
def _rollup_query(name: str, granularity: Granularity) -> sql.SQL:
    """The rollups' own composition (rollup_sql), rendered once per process."""
    return sql.SQL(rollup_sql(name, granularity).as_string())


def _range(start: datetime, end: datetime) -> dict[str, datetime]:
    return {"range_start": start, "range_end": end}


def _org_range(organization_id: str, start: datetime, end: datetime) -> dict[str, object]:
    return {"organization_id": organization_id, **_range(start, end)}


def usage_by_bucket(conn: psycopg.Connection, granularity: Granularity, organization_id: str, start: datetime,
                    end: datetime) -> list[UsageRow]:
    """The organization's requests, tokens, errors and cost per hour or day of ``[start, end)``, every model
    together (``model_id`` and the latencies None; buckets without usage are absent)."""
    return fetch_rows(conn, _rollup_query("portal/org_usage_by_bucket", granularity),
                      _org_range(organization_id, start, end), UsageRow)


def latest_usage_day(conn: psycopg.Connection, organization_id: str, before: datetime) -> date | None:
    """The last day before ``before`` with usage of the organization (None: none)."""
    (moment,) = conn.execute(load_sql("portal/org_latest_usage_day"),
                             {"organization_id": organization_id, "before": before}).fetchone()
    return moment.date() if moment else None


class EndpointDay(NamedTuple):
    endpoint: str
    bucket_start: datetime
    request_count: int
    error_count: int
    server_error_count: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None


def endpoint_performance(conn: psycopg.Connection, organization_id: str, start: datetime,
                         end: datetime) -> list[EndpointDay]:
    return fetch_rows(conn, "portal/org_endpoint_performance", _org_range(organization_id, start, end), EndpointDay)


class EndpointRangeLatency(NamedTuple):
    endpoint: str
    request_count: int  # the requests the percentiles rest on
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None


def endpoint_range_latency(conn: psycopg.Connection, organization_id: str, start: datetime,
                           end: datetime) -> dict[str, EndpointRangeLatency]:
    """Per endpoint, the true latency percentiles of the whole range: the daily sketches merged in
    PostgreSQL (within 1 % of exact), never the highest day."""
    rows = conn.execute(load_sql("portal/org_endpoint_range_latency"),
                        _org_range(organization_id, start, end))
    return {endpoint: EndpointRangeLatency(endpoint, count, *(percentiles or (None, None, None)))
            for endpoint, count, percentiles in rows.fetchall()}


class ModelCost(NamedTuple):
    model_id: str | None
    request_count: int
    tokens_total: int
    cost_total: Decimal


def cost_by_model(conn: psycopg.Connection, organization_id: str, start: datetime, end: datetime) -> list[ModelCost]:
    return fetch_rows(conn, "portal/org_cost_by_model", _org_range(organization_id, start, end), ModelCost)


# -- From the business, customer and SRE metrics (issue 14) ------------------------------------------------------


@functools.cache
def _stepped_query(name: str, step: str) -> sql.SQL:
    return sql.SQL(compose_sql(name, step=sql.Literal(step)).as_string())


class AgentBucket(NamedTuple):
    bucket_start: datetime
    invocations: int
    failures: int


def agent_invocations(conn: psycopg.Connection, granularity: Granularity, organization_id: str, start: datetime,
                      end: datetime) -> list[AgentBucket]:
    """The organization's agent invocations per hour or day of ``[start, end)``."""
    step = "1 hour" if granularity is Granularity.HOURLY else "1 day"
    return fetch_rows(conn, _stepped_query("portal/org_agent_invocations", step),
                      _org_range(organization_id, start, end), AgentBucket)


class Forecast(NamedTuple):
    as_of: date
    days_elapsed: int
    days_in_month: int
    requests_to_date: int
    requests_forecast: int
    tokens_to_date: int
    tokens_forecast: int
    cost_to_date: Decimal
    cost_forecast: Decimal
    cost_run_rate: Decimal


def month_forecast(conn: psycopg.Connection, organization_id: str, month: date, as_of: date) -> Forecast | None:
    """The organization's latest month-end forecast of ``month`` made by ``as_of``."""
    return fetch_row(conn, "portal/org_forecast", {"organization_id": organization_id, "month": month, "as_of": as_of},
                     Forecast)


class EndpointHour(NamedTuple):
    endpoint: str
    bucket_start: datetime
    request_count: int
    server_errors: int


def status_hours(conn: psycopg.Connection, start: datetime, end: datetime) -> list[EndpointHour]:
    """Every organization together: requests and 5xx per endpoint and hour (the status page)."""
    return fetch_rows(conn, "portal/status_endpoint_hours", _range(start, end), EndpointHour)


def latest_sre_hour(conn: psycopg.Connection, before: datetime) -> datetime | None:
    return conn.execute(load_sql("portal/sre_latest_hour"), {"before": before}).fetchone()[0]


def latest_revenue_month(conn: psycopg.Connection, before: date) -> date | None:
    return conn.execute(load_sql("portal/business_latest_month"), {"before": before}).fetchone()[0]


class CustomerMonth(NamedTuple):
    organization_id: str
    plan: str | None
    mrr: Decimal
    usage_revenue: Decimal
    request_count: int
    tokens_total: int
    attributed_cost: Decimal | None
    compute_cost: Decimal | None
    api_cost: Decimal | None
    data_transfer_cost: Decimal | None
    storage_cost: Decimal | None
    other_cost: Decimal | None
    margin: Decimal
    margin_pct: Decimal | None
    revenue_rank: int | None
    revenue_rank_change: int | None
    usage_rank: int | None
    usage_rank_change: int | None
    health_score: int | None
    health_band: str | None
    churn_signal: bool | None
    churn_reason: str | None
    mau: int | None
    currency: str


def business_customers(conn: psycopg.Connection, month: date) -> list[CustomerMonth]:
    return fetch_rows(conn, "portal/business_customers", {"month": month}, CustomerMonth)


class CostWithoutCustomer(NamedTuple):
    """Attributed cost of a month that no billed organization carries, shown as its own line."""

    organization_id: str | None  # None: shared cost of days without usage to carry it
    attributed_cost: Decimal
    compute_cost: Decimal
    api_cost: Decimal
    data_transfer_cost: Decimal
    storage_cost: Decimal
    other_cost: Decimal
    usage_revenue: Decimal

    @property
    def reason(self) -> str:
        if self.organization_id is None:
            return "shared cost of days without usage to carry it"
        return "tagged cost of an organization without usage this month"

    @property
    def mrr(self) -> Decimal:
        return Decimal(0)

    @property
    def margin(self) -> Decimal:
        return -self.attributed_cost


def costs_without_customer(conn: psycopg.Connection, month: date) -> list[CostWithoutCustomer]:
    return fetch_rows(conn, "portal/business_costs_without_customer", {"month": month}, CostWithoutCustomer)


class PlatformDay(NamedTuple):
    day: date
    active_customers: int
    new_customers: int
    churned_customers: int
    request_count: int
    dau: int
    wau: int
    mau: int
    stickiness: float | None
    month_active_customers: int


def business_days(conn: psycopg.Connection, first_day: date, end_day: date) -> list[PlatformDay]:
    return fetch_rows(conn, "portal/business_days", {"first_day": first_day, "end_day": end_day}, PlatformDay)


def customer_health(conn: psycopg.Connection, first_day: date, last_day: date) -> list[HealthScore]:
    """Every organization's health scores on the last scored day of ``[first_day, last_day]``."""
    return fetch_rows(conn, "portal/business_health", {"first_day": first_day, "last_day": last_day}, HealthScore)


class Ranked(NamedTuple):
    ranking: str
    rank: int
    organization_id: str
    value: Decimal
    previous_rank: int | None
    rank_change: int | None


def top_customers(conn: psycopg.Connection, month: date, limit: int = 10) -> list[Ranked]:
    return fetch_rows(conn, "portal/business_top_customers", {"month": month, "limit": limit}, Ranked)


class SreEndpoint(NamedTuple):
    endpoint: str
    request_count: int
    status_4xx: int
    status_5xx: int
    rate_limited_count: int
    latency_request_count: int  # the requests the range's latency percentiles rest on
    latency_p50_ms: float | None  # the range's, merged from the hours' sketches
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    queue_wait_p50_ms: float | None  # the highest hour's
    queue_wait_p95_ms: float | None
    queue_wait_p99_ms: float | None


def sre_endpoints(conn: psycopg.Connection, start: datetime, end: datetime) -> list[SreEndpoint]:
    return fetch_rows(conn, "portal/sre_endpoint_summary", _range(start, end), SreEndpoint)


def sre_hours(conn: psycopg.Connection, start: datetime, end: datetime) -> list[tuple]:
    """(endpoint, hour, requests, 4xx, 5xx, p95 ms) of every organization together, for the charts."""
    return conn.execute(load_sql("portal/sre_endpoint_hours"), _range(start, end)).fetchall()


class ErrorType(NamedTuple):
    status_class: str
    error_type: str
    error_count: int


def error_types(conn: psycopg.Connection, start: datetime, end: datetime) -> list[ErrorType]:
    return fetch_rows(conn, "portal/sre_error_types", _range(start, end), ErrorType)


class AgentType(NamedTuple):
    agent_type: str
    invocations: int
    failures: int
    server_failures: int
    duration_p50_ms: float | None  # the highest hour's
    duration_p95_ms: float | None
    duration_p99_ms: float | None


def agent_types(conn: psycopg.Connection, start: datetime, end: datetime) -> list[AgentType]:
    return fetch_rows(conn, "portal/sre_agents", _range(start, end), AgentType)


class SessionHour(NamedTuple):
    bucket_start: datetime
    sessions: int
    highest_peak: int
    summed_peaks: int


def session_hours(conn: psycopg.Connection, start: datetime, end: datetime) -> list[SessionHour]:
    return fetch_rows(conn, "portal/sre_sessions", _range(start, end), SessionHour)


class SessionPeak(NamedTuple):
    organization_id: str
    peak: int
    session_hours: int


def session_peaks(conn: psycopg.Connection, start: datetime, end: datetime, limit: int = 10) -> list[SessionPeak]:
    return fetch_rows(conn, "portal/sre_session_peaks", {**_range(start, end), "limit": limit}, SessionPeak)


def models_together(rows: list[UsageRow]) -> list[UsageRow]:
    """Usage rows per bucket and model (live rows) as the page's buckets, every model together: the
    figures summed, the cost None when any model's is (an unpriced event), the latencies None."""
    buckets: dict[datetime, list] = {}
    for row in rows:
        figures = buckets.setdefault(row.bucket_start, [0, 0, 0, 0, 0, Decimal(0)])
        for i, value in enumerate((row.request_count, row.tokens_input, row.tokens_output, row.tokens_total,
                                   row.error_count)):
            figures[i] += value
        figures[5] = None if row.cost_total is None or figures[5] is None else figures[5] + row.cost_total
    return [UsageRow(bucket, None, *figures, None, None, None) for bucket, figures in sorted(buckets.items())]
