"""Month-end forecasts of each organization's requests, tokens and cost, with their backtest.

As of the end of each day, from the daily rollups: each organization's month to date and its
month-end forecast by the weekly-seasonal method of :mod:`analytics_pipeline.metrics.forecasting`,
beside the run rate the budget check used before (``analytics_usage_forecasts``; the platform
is the row without organization, the sum of the organizations'); and both methods' backtest
errors (MAPE, WAPE) on the 28 days before (``analytics_forecast_backtests``). A window of
as-of days is replaced whole in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import psycopg

from analytics_pipeline.metrics.activity import day_bounds
from analytics_pipeline.metrics.forecasting import BACKTEST_ORIGINS, FACTOR_DAYS, Backtest, forecast_and_backtest
from analytics_pipeline.warehouse.sql import fetch_rows, load_sql

METRICS = ("requests", "tokens", "cost")
#: Days of history an as-of day needs: the backtest's earliest origin and that origin's factors.
HISTORY_DAYS = BACKTEST_ORIGINS + FACTOR_DAYS
_CENTS = Decimal("0.0001")

_COLUMNS = ("as_of", "organization_id", "month", "days_elapsed", "days_in_month", "requests_to_date",
            "requests_forecast", "requests_run_rate", "tokens_to_date", "tokens_forecast", "tokens_run_rate",
            "cost_to_date", "cost_forecast", "cost_run_rate")


@dataclass(frozen=True)
class UsageForecast:
    """One organization's (None: the platform's) month as of a day."""

    as_of: date
    organization_id: str | None
    month: date
    days_elapsed: int
    days_in_month: int
    requests_to_date: int
    requests_forecast: int
    requests_run_rate: int
    tokens_to_date: int
    tokens_forecast: int
    tokens_run_rate: int
    cost_to_date: Decimal
    cost_forecast: Decimal
    cost_run_rate: Decimal


@dataclass(frozen=True)
class ForecastSummary:
    as_of: date  # the window's last day
    platform: UsageForecast | None
    organizations: list[UsageForecast]  # as of the last day, by forecast cost, highest first
    backtests: dict[str, Backtest]  # as of the last day, per metric
    rows: int


def _money(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_CENTS)


def _forecasts_as_of(series: dict[str, dict[str, dict[date, float]]], exact_cost: dict[str, dict[date, Decimal]],
                     as_of: date) -> tuple[list[UsageForecast], dict[str, Backtest]]:
    results = {metric: forecast_and_backtest(series[metric], as_of) for metric in METRICS}
    by_metric = {metric: forecasts for metric, (forecasts, _) in results.items()}
    month = as_of.replace(day=1)
    rows = []
    for organization_id in sorted(series["requests"]):
        requests, tokens, cost = (by_metric[m][organization_id] for m in METRICS)
        if not requests.actual and not tokens.actual and not cost.actual and not requests.seasonal:
            continue  # nothing this month, and nothing expected
        cost_to_date = sum((v for d, v in exact_cost[organization_id].items() if month <= d <= as_of), Decimal(0))
        rows.append(UsageForecast(
            as_of, organization_id, month, requests.days_elapsed, requests.days_in_month,
            round(requests.actual), round(requests.seasonal), round(requests.run_rate),
            round(tokens.actual), round(tokens.seasonal), round(tokens.run_rate),
            cost_to_date, _money(cost.seasonal), _money(cost.run_rate)))
    if rows:
        first = rows[0]
        rows.append(UsageForecast(
            as_of, None, month, first.days_elapsed, first.days_in_month,
            *(sum(getattr(r, column) for r in rows) for column in _COLUMNS[5:11]),
            *(sum((getattr(r, column) for r in rows), Decimal(0)) for column in _COLUMNS[11:])))
    return rows, {metric: result for metric, (_, result) in results.items()}


def replace_usage_forecasts(conn: psycopg.Connection, start: datetime, end: datetime) -> ForecastSummary:
    """Forecast the month of each day of ``[start, end)`` as of its end, backtest both methods,
    and replace the window's rows in one transaction."""
    first_day, end_day = day_bounds(start, end)
    series: dict[str, dict[str, dict[date, float]]] = {metric: {} for metric in METRICS}
    exact_cost: dict[str, dict[date, Decimal]] = {}
    for organization_id, day, requests, tokens, cost in conn.execute(
            load_sql("metrics/daily_usage_by_organization"),
            {"start_date": first_day - timedelta(days=HISTORY_DAYS), "end_date": end_day}):
        for metric, value in zip(METRICS, (requests, tokens, cost), strict=True):
            series[metric].setdefault(organization_id, {})[day] = float(value)
        exact_cost.setdefault(organization_id, {})[day] = cost
    rows: list[UsageForecast] = []
    backtests: dict[date, dict[str, Backtest]] = {}
    day = first_day
    while day < end_day:  # the forecasts read no day after their as-of day
        visible = {metric: {org: days for org, days in by_org.items() if min(days) <= day}
                   for metric, by_org in series.items()}
        day_rows, backtests[day] = _forecasts_as_of(visible, exact_cost, day)
        rows.extend(day_rows)
        day += timedelta(days=1)
    params = {"first_day": first_day, "end_day": end_day}
    with conn.transaction():
        conn.execute(load_sql("metrics/delete_usage_forecasts"), params)
        with conn.cursor().copy(f"COPY analytics_usage_forecasts ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([getattr(row, column) for column in _COLUMNS])
        with conn.cursor() as cursor:
            cursor.executemany(load_sql("metrics/insert_forecast_backtest"), [
                {"as_of": as_of, "metric": metric, "seasonal_mape": b.seasonal_mape, "run_rate_mape": b.run_rate_mape,
                 "seasonal_wape": b.seasonal_wape, "run_rate_wape": b.run_rate_wape, "cases": b.cases,
                 "origins": b.origins}
                for as_of, by_metric in backtests.items() for metric, b in by_metric.items()])
    last = end_day - timedelta(days=1)
    last_rows = [r for r in rows if r.as_of == last]
    platform = next((r for r in last_rows if r.organization_id is None), None)
    organizations = sorted((r for r in last_rows if r.organization_id is not None),
                           key=lambda r: (-r.cost_forecast, r.organization_id))
    return ForecastSummary(last, platform, organizations, backtests[last], len(rows))


@dataclass(frozen=True)
class BacktestRow:
    as_of: date
    metric: str
    seasonal_mape: float | None
    run_rate_mape: float | None
    seasonal_wape: float | None
    run_rate_wape: float | None
    cases: int


def backtests_between(conn: psycopg.Connection, first_day: date, end_day: date) -> list[BacktestRow]:
    """The backtests made as of the days ``[first_day, end_day)``."""
    return fetch_rows(conn, "metrics/forecast_backtests", {"first_day": first_day, "end_day": end_day}, BacktestRow)
