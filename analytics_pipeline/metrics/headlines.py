"""The headline figures of a month, as the demo prints them: active customers, MAU, the least
healthy customers, the top customers by revenue, and the month-end forecast made mid-month
against what the month turned out to be."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import psycopg

from analytics_pipeline.metrics.revenue import RankedCustomer, top_customers
from analytics_pipeline.warehouse.sql import load_sql


@dataclass(frozen=True)
class ForecastHeadline:
    as_of: date
    requests_to_date: int
    requests_forecast: int
    requests_run_rate: int
    cost_to_date: Decimal
    cost_forecast: Decimal
    cost_run_rate: Decimal
    seasonal_mape: float | None
    run_rate_mape: float | None
    requests_actual: int  # what the month held, for comparison
    cost_actual: Decimal


@dataclass(frozen=True)
class Headlines:
    last_day: date | None
    active_customers: int
    month_active_customers: int
    month_new_customers: int
    month_churned_customers: int
    dau: int
    mau: int
    stickiness: float | None
    least_healthy: list[tuple[str, int, str, str | None]]  # organization, score, band, churn signal
    top_by_revenue: list[RankedCustomer]
    forecast: ForecastHeadline | None


def month_headlines(conn: psycopg.Connection, month: date, *, forecast_day: int = 15, limit: int = 3) -> Headlines:
    """The headlines of the month starting ``month``; the forecast is the one made at the end of
    its ``forecast_day``-th day."""
    end = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    days = {"first_day": month, "end_day": end}
    activity = conn.execute(load_sql("metrics/headline_activity"), days).fetchone() or (None, 0, 0, 0, 0, 0, 0, None)
    last_day = activity[0]
    least = [] if last_day is None else [
        (org, score, band, reason) for org, score, band, _, reason, *_ in
        conn.execute(load_sql("metrics/customer_health_on_day"), {"day": last_day}).fetchall()[:limit]]
    forecast = None
    as_of = month + timedelta(days=forecast_day - 1)
    row = conn.execute(load_sql("metrics/headline_forecast"), {"as_of": as_of}).fetchone()
    if row is not None:
        requests, cost = conn.execute(load_sql("metrics/month_totals"), days).fetchone()
        forecast = ForecastHeadline(*row, requests, cost)
    return Headlines(last_day, *activity[1:], least, top_customers(conn, month, limit=limit + 2)["revenue"], forecast)
