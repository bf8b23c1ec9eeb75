"""Customer health scores (0-100), bands and churn signals, per organization and day.

Every organization active in the 35 days through a day gets a score that day, the weighted
mean of five components, each 0-100 and linear between two documented points:

===============  ======  ==========================================================  =========  ==========
component        weight  measure (days d-6..d are "the last 7 days")                 100 at     0 at
===============  ======  ==========================================================  =========  ==========
usage trend      30      mean daily requests, last 7 days / the 28 days before        >= 1.0     <= 0.25
errors           25      status >= 400 share of the last 7 days' requests            <= 1 %     >= 10 %
latency          15      its p95 / the platform's p95, last 7 days                   <= 1.0     >= 3.0
recency          15      days since its last active day (0: active today)            <= 1       >= N
budget burn      15      (month-to-date cost / budget) / (share of the month gone)    <= 1.0     >= 2.0
===============  ======  ==========================================================  =========  ==========

A component that cannot be measured is left out and the others' weights renormalized: the
trend before the organization has 7 days of history before the last 7 (a young customer is
not penalized for being young), errors and latency without requests in the last 7 days,
budget burn without a budget for the tenant (``ANALYTICS_BUDGETS_FILE``). The 7- and 28-day
means of a young organization count from its first active day. Latency compares the
request-weighted mean of the organization's daily p95s (exact per day) with the same mean
over every organization's daily p95s (the platform's). ``N`` is
``ANALYTICS_CHURN_INACTIVE_DAYS``.

The score is rounded half up to an integer. Bands: **healthy** >= 70, **at risk** 40-69,
**critical** < 40.

Churn signal: no activity for N days or more (``inactive``), or the last 7 days' requests
more than ``ANALYTICS_CHURN_DROP_PERCENT`` percent below the 7 days before (``usage_drop``;
judged once the organization has a whole week before the last one).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import psycopg

from analytics_pipeline.metrics.activity import day_bounds
from analytics_pipeline.warehouse.sql import fetch_rows, load_sql

WEIGHTS = {"trend": 30.0, "errors": 25.0, "latency": 15.0, "recency": 15.0, "budget": 15.0}
HEALTHY_FROM = 70
AT_RISK_FROM = 40
BANDS = ("healthy", "at_risk", "critical")


@dataclass(frozen=True)
class HealthPolicy:
    """``churn_inactive_days``: days without activity that make a churn signal (and zero the
    recency component); ``churn_drop``: the week-over-week drop in requests (a fraction) that does."""

    churn_inactive_days: int = 14
    churn_drop: float = 0.5


@dataclass(frozen=True)
class HealthInputs:
    """What one organization's score on one day is computed from."""

    day: date
    organization_id: str
    requests_last_7: int
    requests_prior_7: int  # d-13..d-7
    requests_prior_28: int  # d-34..d-7
    errors_last_7: int
    latency_p95_last_7: float | None
    platform_p95_last_7: float | None
    last_active_day: date
    first_active_day: date
    budget_burn: float | None = None


@dataclass(frozen=True)
class HealthScore:
    day: date
    organization_id: str
    score: int
    band: str
    churn_signal: bool
    churn_reason: str | None
    usage_trend_ratio: float | None
    week_over_week_ratio: float | None
    error_rate: float | None
    latency_ratio: float | None
    budget_burn: float | None
    days_since_active: int
    trend_score: float | None
    error_score: float | None
    latency_score: float | None
    recency_score: float
    budget_score: float | None
    requests_last_7_days: int


def _linear(value: float, full: float, zero: float) -> float:
    """100 at ``full``, 0 at ``zero``, linear between and clamped outside (either direction)."""
    share = (value - zero) / (full - zero)
    return 100.0 * min(1.0, max(0.0, share))


def band_of(score: int) -> str:
    return "healthy" if score >= HEALTHY_FROM else "at_risk" if score >= AT_RISK_FROM else "critical"


def health_score(inputs: HealthInputs, policy: HealthPolicy = HealthPolicy()) -> HealthScore:
    """The score, band and churn signal of ``inputs`` (see the module docstring)."""
    day = inputs.day
    last_days = (day - max(inputs.first_active_day, day - timedelta(days=6))).days + 1
    prior_days = ((day - timedelta(days=7)) - max(inputs.first_active_day, day - timedelta(days=34))).days + 1
    trend = None
    if prior_days >= 7:
        prior_mean = inputs.requests_prior_28 / prior_days
        trend = (inputs.requests_last_7 / last_days) / prior_mean if prior_mean > 0 else None
    week_over_week = None
    if inputs.first_active_day <= day - timedelta(days=13) and inputs.requests_prior_7 > 0:
        week_over_week = inputs.requests_last_7 / inputs.requests_prior_7
    error_rate = inputs.errors_last_7 / inputs.requests_last_7 if inputs.requests_last_7 else None
    latency = None
    if inputs.latency_p95_last_7 is not None and inputs.platform_p95_last_7:
        latency = inputs.latency_p95_last_7 / inputs.platform_p95_last_7
    since = (day - inputs.last_active_day).days

    components = {
        "trend": None if trend is None else _linear(trend, 1.0, 0.25),
        "errors": None if error_rate is None else _linear(error_rate, 0.01, 0.10),
        "latency": None if latency is None else _linear(latency, 1.0, 3.0),
        "recency": _linear(since, 1.0, float(policy.churn_inactive_days)),
        "budget": None if inputs.budget_burn is None else _linear(inputs.budget_burn, 1.0, 2.0),
    }
    measured = {name: value for name, value in components.items() if value is not None}
    total_weight = sum(WEIGHTS[name] for name in measured)
    weighted = sum(WEIGHTS[name] * value for name, value in measured.items()) / total_weight
    score = int(weighted + 0.5 + 1e-9)  # half up (92.5 -> 93), not to even

    reasons = []
    if since >= policy.churn_inactive_days:
        reasons.append(f"inactive: no activity for {since} days")
    if week_over_week is not None and week_over_week < 1 - policy.churn_drop:
        reasons.append(f"usage_drop: requests down {round((1 - week_over_week) * 100)}% week over week")
    return HealthScore(
        day=day, organization_id=inputs.organization_id, score=score, band=band_of(score),
        churn_signal=bool(reasons), churn_reason="; ".join(reasons) or None, usage_trend_ratio=trend,
        week_over_week_ratio=week_over_week, error_rate=error_rate, latency_ratio=latency,
        budget_burn=inputs.budget_burn, days_since_active=since, trend_score=components["trend"],
        error_score=components["errors"], latency_score=components["latency"], recency_score=components["recency"],
        budget_score=components["budget"], requests_last_7_days=inputs.requests_last_7)


def budget_burn(month_to_date_cost: Decimal, budget: Decimal, day: date) -> float:
    """(Share of the monthly budget spent through ``day``) / (share of the month elapsed)."""
    days_in_month = calendar.monthrange(day.year, day.month)[1]
    return float(month_to_date_cost / budget) / (day.day / days_in_month)


def _burns(conn: psycopg.Connection, first_day: date, end_day: date,
           budgets: Mapping[str, Decimal]) -> dict[tuple[date, str], float]:
    """Each budgeted tenant's budget burn on each day of ``[first_day, end_day)``."""
    if not budgets:
        return {}
    costs: dict[str, dict[date, Decimal]] = {}
    for organization_id, day, amount in conn.execute(load_sql("metrics/attributed_costs_by_day"), {
            "start_date": first_day.replace(day=1), "end_date": end_day}):
        if organization_id in budgets:
            costs.setdefault(organization_id, {})[day] = amount
    burns = {}
    day = first_day
    while day < end_day:
        month_start = day.replace(day=1)
        for organization_id, budget in budgets.items():
            spent = sum((amount for d, amount in costs.get(organization_id, {}).items() if month_start <= d <= day),
                        Decimal(0))
            burns[(day, organization_id)] = budget_burn(spent, budget, day)
        day += timedelta(days=1)
    return burns


_COLUMNS = ("day", "organization_id", "score", "band", "churn_signal", "churn_reason", "usage_trend_ratio",
            "week_over_week_ratio", "error_rate", "latency_ratio", "budget_burn", "days_since_active", "trend_score",
            "error_score", "latency_score", "recency_score", "budget_score", "requests_last_7_days")


@dataclass(frozen=True)
class HealthSummary:
    scores: int
    last_day: date
    last_day_scores: list[HealthScore]  # the least healthy first

    def in_band(self, band: str) -> int:
        return sum(1 for s in self.last_day_scores if s.band == band)

    @property
    def churn_signals(self) -> list[HealthScore]:
        return [s for s in self.last_day_scores if s.churn_signal]


def replace_customer_health(conn: psycopg.Connection, start: datetime, end: datetime, *,
                            policy: HealthPolicy = HealthPolicy(),
                            budgets: Mapping[str, Decimal] | None = None) -> HealthSummary:
    """Recompute the health of every organization on each day of ``[start, end)`` in one
    transaction, from the activity rows (computed first) and, for the tenants with a monthly
    budget in ``budgets``, their attributed cost."""
    first_day, end_day = day_bounds(start, end)
    params = {"first_day": first_day, "end_day": end_day}
    with conn.transaction():
        burns = _burns(conn, first_day, end_day, budgets or {})
        scores = [health_score(replace(inputs, budget_burn=burns.get((inputs.day, inputs.organization_id))), policy)
                  for inputs in fetch_rows(conn, "metrics/customer_health_inputs", params, HealthInputs)]
        conn.execute(load_sql("metrics/delete_customer_health"), params)
        with conn.cursor().copy(f"COPY analytics_customer_health_daily ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
            for score in scores:
                copy.write_row([getattr(score, column) for column in _COLUMNS])
    last_day = end_day - timedelta(days=1)
    last = sorted((s for s in scores if s.day == last_day), key=lambda s: (s.score, s.organization_id))
    return HealthSummary(len(scores), last_day, last)
