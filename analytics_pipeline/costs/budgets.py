"""Monthly budgets per tenant and in total, and their evaluation against attributed cost.

The budgets file (``ANALYTICS_BUDGETS_FILE``) is JSON or TOML, chosen by its extension;
amounts are strings or numbers and are read as Decimal (never through float)::

    {
      "currency": "USD",
      "warn_at_percent": 80,          # optional, default 80
      "fail_at_percent": 100,         # optional, default 100
      "fail_on_forecast": false,      # optional: a forecast breach fails too, not only warns
      "total_monthly": "6000.00",     # optional: the budget of all tenants together
      "tenants": {"<organization id>": "2500.00", ...}
    }

Evaluation, for a month and the last day counted (month to date)::

    actual   = attributed cost from the 1st through that day
    forecast = the month-end forecast of the weekly-seasonal method
               (analytics_pipeline.metrics.forecasting: the month to date plus each day left at the
               tenant's deseasonalized level of its last 14 days times that weekday's factor),
               when the daily costs are given (the tenant_budgets check gives them);
               otherwise actual / days elapsed x days in the month (the run rate)

A budget is **failed** (ERROR) when actual >= fail_at_percent of it; it **warns** when actual
>= warn_at_percent or when the forecast reaches warn_at_percent (a forecast at or above
fail_at_percent is reported as "forecast to exceed" and fails only with
``fail_on_forecast``: early in a month one expensive day extrapolates to a breach that
may never happen). Comparisons are exact: 79.99 % is quiet, 80 % warns.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from analytics_pipeline.configuration.documents import document_amount, parse_document, read_document_file
from analytics_pipeline.costs.attribution import round_cents
from analytics_pipeline.metrics.forecasting import month_end_forecasts
from analytics_pipeline.money import CENT
from analytics_pipeline.warehouse.sql import load_sql

TOTAL = "(total)"  # the key of the all-tenant budget in evaluations


class BudgetFileError(ValueError):
    """A budgets file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Budgets:
    tenants: dict[str, Decimal]
    total: Decimal | None
    currency: str = "USD"
    warn_ratio: Decimal = Decimal("0.8")
    fail_ratio: Decimal = Decimal("1")
    fail_on_forecast: bool = False
    source: str = ""


def _money(value, where: str) -> Decimal:
    amount = document_amount(value, where, error=BudgetFileError)
    if not amount.is_finite() or amount <= 0:
        raise BudgetFileError(f"{where}: a budget must be a positive amount, not {value!r}")
    return amount


def parse_budgets(text: str, *, fmt: str = "json", source: str = "budgets") -> Budgets:
    """Budgets from the text of a JSON (``fmt="json"``) or TOML (``fmt="toml"``) file."""
    data = parse_document(text, fmt=fmt, source=source, kind="budgets", error=BudgetFileError)
    known = {"currency", "warn_at_percent", "fail_at_percent", "fail_on_forecast", "total_monthly", "tenants"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise BudgetFileError(f"{source}: unknown key(s) {', '.join(unknown)}; expected {', '.join(sorted(known))}")
    tenants_raw = data.get("tenants", {})
    if not isinstance(tenants_raw, dict):
        raise BudgetFileError(f"{source}: 'tenants' must map organization ids to monthly amounts")
    tenants = {str(org): _money(amount, f"{source}: tenants.{org}") for org, amount in tenants_raw.items()}
    total = _money(data["total_monthly"], f"{source}: total_monthly") if "total_monthly" in data else None
    if total is None and not tenants:
        raise BudgetFileError(f"{source}: no budgets: set total_monthly and/or tenants")
    warn = _money(data.get("warn_at_percent", 80), f"{source}: warn_at_percent") / 100
    fail = _money(data.get("fail_at_percent", 100), f"{source}: fail_at_percent") / 100
    if warn > fail:
        raise BudgetFileError(f"{source}: warn_at_percent must not exceed fail_at_percent")
    currency = str(data.get("currency", "USD")).strip().upper()
    fail_on_forecast = data.get("fail_on_forecast", False)
    if not isinstance(fail_on_forecast, bool):
        raise BudgetFileError(f"{source}: fail_on_forecast must be true or false")
    return Budgets(tenants=tenants, total=total, currency=currency, warn_ratio=warn, fail_ratio=fail,
                   fail_on_forecast=fail_on_forecast, source=source)


def load_budgets(path: str | Path) -> Budgets:
    """Budgets from a ``.json`` or ``.toml`` file; a missing or unreadable file raises BudgetFileError."""
    text, fmt, source = read_document_file(path, kind="budgets", error=BudgetFileError)
    return parse_budgets(text, fmt=fmt, source=source)


class BudgetLevel(enum.IntEnum):
    OK = 0
    WARN = 1
    FAIL = 2


@dataclass(frozen=True)
class BudgetStatus:
    name: str  # organization id, or TOTAL
    budget: Decimal
    actual: Decimal
    forecast: Decimal  # month-end (weekly-seasonal when daily costs were given, else the run rate), to the cent
    actual_ratio: Decimal
    forecast_ratio: Decimal
    level: BudgetLevel
    reasons: tuple[str, ...]

    @property
    def actual_percent(self) -> Decimal:
        return (self.actual_ratio * 100).quantize(CENT)

    @property
    def forecast_percent(self) -> Decimal:
        return (self.forecast_ratio * 100).quantize(CENT)


@dataclass(frozen=True)
class BudgetEvaluation:
    month_start: date
    through: date  # the last day counted (inclusive)
    days_elapsed: int
    days_in_month: int
    statuses: list[BudgetStatus]  # every budget, worst first

    @property
    def level(self) -> BudgetLevel:
        return max((s.level for s in self.statuses), default=BudgetLevel.OK)

    def at_level(self, level: BudgetLevel) -> list[BudgetStatus]:
        return [s for s in self.statuses if s.level is level]


def forecast_month_end(actual: Decimal, days_elapsed: int, days_in_month: int) -> Decimal:
    """The month's cost at the run rate of its first ``days_elapsed`` days, to the cent."""
    return round_cents(actual * days_in_month / days_elapsed)


def _status(name: str, budget: Decimal, actual: Decimal, forecast: Decimal, budgets: Budgets) -> BudgetStatus:
    actual_ratio = actual / budget
    forecast_ratio = forecast / budget
    reasons: list[str] = []
    level = BudgetLevel.OK
    if actual_ratio >= budgets.fail_ratio:
        level = BudgetLevel.FAIL
        reasons.append("over budget")
    elif actual_ratio >= budgets.warn_ratio:
        level = BudgetLevel.WARN
        reasons.append("actual at warning level")
    if forecast_ratio >= budgets.fail_ratio:
        level = max(level, BudgetLevel.FAIL if budgets.fail_on_forecast else BudgetLevel.WARN)
        reasons.append("forecast to exceed")
    elif forecast_ratio >= budgets.warn_ratio:
        level = max(level, BudgetLevel.WARN)
        reasons.append("forecast at warning level")
    return BudgetStatus(name, budget, actual, forecast, actual_ratio, forecast_ratio, level, tuple(reasons))


def seasonal_forecasts(daily_costs: Mapping[str | None, Mapping[date, Decimal]], through: date) -> dict[
        str | None, Decimal]:
    """Each tenant's month-end cost by the weekly-seasonal method, as of the end of ``through``,
    to the cent (``daily_costs``: attributed cost per tenant and day, up to 35 days back)."""
    return {key: round_cents(Decimal(repr(forecast.seasonal)))
            for key, forecast in month_end_forecasts(daily_costs, through).items()}


def evaluate_budgets(budgets: Budgets, *, through: date, tenant_costs: Mapping[str | None, Decimal],
                     currency: str | None = None,
                     forecasts: Mapping[str | None, Decimal] | None = None) -> BudgetEvaluation:
    """Evaluate every budget on the month-to-date cost through ``through`` (inclusive).

    ``tenant_costs`` holds each tenant's attributed cost since the 1st of the month; the
    None key (unattributed shared cost) counts toward the total budget only. ``forecasts``
    (e.g. :func:`seasonal_forecasts`) are the month-end forecasts per tenant; without them, or
    for a tenant they leave out, the forecast is the run rate.
    """
    if currency is not None and currency != budgets.currency:
        raise BudgetFileError(f"{budgets.source}: budgets are in {budgets.currency} but costs are in {currency}")
    month_start = through.replace(day=1)
    days_elapsed = (through - month_start).days + 1
    days_in_month = calendar.monthrange(through.year, through.month)[1]
    def forecast(name: str | None, actual: Decimal) -> Decimal:
        if forecasts is not None and name in forecasts:
            return forecasts[name]
        return forecast_month_end(actual, days_elapsed, days_in_month)

    statuses = []
    for name, budget in sorted(budgets.tenants.items()):
        actual = tenant_costs.get(name, Decimal(0))
        statuses.append(_status(name, budget, actual, forecast(name, actual), budgets))
    if budgets.total is not None:
        actual = sum(tenant_costs.values(), Decimal(0))
        total_forecast = (sum((forecast(name, cost) for name, cost in tenant_costs.items()), Decimal(0))
                          if forecasts is not None else forecast_month_end(actual, days_elapsed, days_in_month))
        statuses.append(_status(TOTAL, budgets.total, actual, total_forecast, budgets))
    statuses.sort(key=lambda s: (-s.level, -s.actual_ratio, -s.forecast_ratio, s.name))
    return BudgetEvaluation(month_start, through, days_elapsed, days_in_month, statuses)


def describe(evaluation: BudgetEvaluation, limit: int = 8) -> str:
    """One line naming the budgets that failed or warn, worst first (for the check's description)."""
    period = f"{evaluation.month_start:%Y-%m} through {evaluation.through:%d} " \
             f"({evaluation.days_elapsed}/{evaluation.days_in_month} days)"
    flagged = [s for s in evaluation.statuses if s.level is not BudgetLevel.OK]
    if not flagged:
        return f"All {len(evaluation.statuses)} budgets below their warning level, {period}."
    parts = [f"{s.name}: {s.actual_percent}% spent, forecast {s.forecast_percent}% ({', '.join(s.reasons)})"
             for s in flagged[:limit]]
    more = f"; and {len(flagged) - limit} more" if len(flagged) > limit else ""
    failed = len(evaluation.at_level(BudgetLevel.FAIL))
    warned = len(evaluation.at_level(BudgetLevel.WARN))
    return f"{failed} failed, {warned} warning, {period}: " + "; ".join(parts) + more


def month_to_date_window(through: date) -> tuple[date, date]:
    """``[first of the month, day after through)``."""
    return through.replace(day=1), through + timedelta(days=1)


@dataclass(frozen=True)
class MonthToDateCosts:
    tenant_costs: dict[str | None, Decimal]  # None: unattributed shared cost
    currency: str | None
    days_with_costs: int


def daily_attributed_costs(conn, through: date, days: int = 35) -> dict[str | None, dict[date, Decimal]]:
    """Each tenant's attributed cost per day over the ``days`` days through ``through`` (the
    history the seasonal forecast needs); None: unattributed shared cost."""
    series: dict[str | None, dict[date, Decimal]] = {}
    for organization_id, day, amount in conn.execute(load_sql("costs/daily_attributed_costs"), {
            "start_date": through - timedelta(days=days - 1), "end_date": through + timedelta(days=1)}):
        series.setdefault(organization_id, {})[day] = amount
    return series


def month_to_date_costs(conn, through: date) -> MonthToDateCosts:
    """Each tenant's attributed cost from the 1st of ``through``'s month through ``through``."""
    start, end = month_to_date_window(through)
    rows = conn.execute(load_sql("costs/month_to_date_costs"), {"start_date": start, "end_date": end}).fetchall()
    currencies = sorted({currency for _, _, currency, _ in rows})
    if len(currencies) > 1:
        raise BudgetFileError(f"attributed costs of {start:%Y-%m} are in several currencies: {currencies}")
    return MonthToDateCosts(
        tenant_costs={organization_id: amount for organization_id, amount, _, _ in rows},
        currency=currencies[0] if currencies else None,
        days_with_costs=max((days for *_, days in rows), default=0),
    )
