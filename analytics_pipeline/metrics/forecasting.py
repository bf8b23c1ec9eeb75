"""Month-end forecasts of daily series with weekly seasonality, and their backtest.

Pure Python, domain-neutral: the metrics forecast (requests, tokens and cost per organization)
and the costs domain's budget check (attributed cost per tenant) both use it; it lives with the
metrics, the forecasts' home, and the costs domain imports it from here.

The **weekly-seasonal** method, as of the end of day ``t``:

* day-of-week factors ``f[w]`` = the mean of the *sum over all series* (the platform) on
  weekday ``w`` over the 28 days through ``t``, divided by the mean of all 28 days; flat (1)
  with fewer than 14 days of data, so every weekday has been seen twice before it is trusted;
* a series' level ``L`` = the mean of ``y[d] / f[weekday(d)]`` over its last 14 days
  through ``t`` (fewer for a series younger than that: it starts on its first day with data;
  a missing day after that is 0);
* the forecast of a future day ``d`` is ``L x f[weekday(d)]``, and the month-end forecast is
  the month to date plus the forecasts of the days left.

The **run rate** (what the budget check used before) is the month-to-date mean times the
days in the month.

The **backtest** replays the month-end forecast where the outcome is known: for every origin
``t`` of the 28 days before the as-of day, and every series with at least 7 days of history at
``t``, it forecasts the rest of ``t``'s month (the days after ``t`` through the end of its month,
or through the as-of day when that comes first) from the data through ``t`` only, by both
methods (the run rate: the mean of ``t``'s month to date times those days), and compares with
what happened. The horizons so run from 1 day to most of a month, as the forecast's do.
``MAPE`` is the mean of ``|forecast - actual| / actual`` over those cases (actual > 0);
``WAPE`` is ``sum |forecast - actual| / sum actual``, which weights large series by their
size.
"""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

__all__ = [
    "BACKTEST_ORIGINS",
    "Backtest",
    "FACTOR_DAYS",
    "LEVEL_DAYS",
    "MIN_HISTORY_DAYS",
    "MIN_SEASONAL_DAYS",
    "MonthEndForecast",
    "backtest",
    "month_end_forecasts",
    "weekday_factors",
]

K = TypeVar("K", bound=Hashable)

FACTOR_DAYS = 28  # days of platform totals behind the day-of-week factors
MIN_SEASONAL_DAYS = 14  # fewer days of data: flat factors
LEVEL_DAYS = 14  # days behind a series' level
MIN_HISTORY_DAYS = 7  # a backtest case needs this much history at its origin
BACKTEST_ORIGINS = 28
_FLAT = (1.0,) * 7


def _month_days(day: date) -> tuple[date, int]:
    """The first day of ``day``'s month and the number of days in it."""
    return day.replace(day=1), calendar.monthrange(day.year, day.month)[1]


class _Grid:
    """The series on a common day axis (index 0 = ``base``), with each series' first day."""

    def __init__(self, series_by_key: Mapping[K, Mapping[date, float]], through: date):
        firsts = [min(days) for days in series_by_key.values() if days]
        self.base = min((d for d in firsts if d <= through), default=through)
        self.length = (through - self.base).days + 1
        self.keys = list(series_by_key)
        self.values: list[list[float]] = []
        self.first: list[int] = []
        for key in self.keys:
            days = series_by_key[key]
            row = [0.0] * self.length
            for day, value in days.items():
                index = (day - self.base).days
                if 0 <= index < self.length:
                    row[index] = float(value)
            self.values.append(row)
            self.first.append(max(0, (min(days) - self.base).days) if days else self.length)
        self.totals = [sum(column) for column in zip(*self.values, strict=True)] if self.values else []
        first_weekday = self.base.weekday()
        self.weekdays = [(first_weekday + i) % 7 for i in range(self.length + 366)]
        self._columns: list[list[float]] | None = None

    def weekday(self, index: int) -> int:
        return self.weekdays[index]

    def factors(self, t: int) -> tuple[float, ...]:
        """Day-of-week factors from the platform totals of the FACTOR_DAYS days through index ``t``."""
        start = max(0, t - FACTOR_DAYS + 1)
        if t - start + 1 < MIN_SEASONAL_DAYS:
            return _FLAT
        sums, counts = [0.0] * 7, [0] * 7
        for index in range(start, t + 1):
            w = self.weekdays[index]
            sums[w] += self.totals[index]
            counts[w] += 1
        overall = sum(sums) / sum(counts)
        if overall <= 0 or not all(counts):
            return _FLAT
        return tuple((sums[w] / counts[w]) / overall if sums[w] > 0 else 1.0 for w in range(7))

    def levels(self, t: int, inverse: list[float]) -> list[float]:
        """Every series' deseasonalized mean over its last LEVEL_DAYS days through ``t``
        (``inverse``: 1 / each weekday's factor). Column by column, for speed: the days before a
        series' first day hold 0, so the window's sum is right and only the divisor (its days
        since then) differs."""
        if self._columns is None:
            self._columns = [list(column) for column in zip(*self.values, strict=True)] if self.values else []
        sums = [0.0] * len(self.values)
        for i in range(max(0, t - LEVEL_DAYS + 1), t + 1):
            weight = inverse[self.weekdays[i]]
            sums = [total + value * weight for total, value in zip(sums, self._columns[i], strict=True)]
        return [total / (t - max(first, t - LEVEL_DAYS + 1) + 1) if first <= t else 0.0
                for total, first in zip(sums, self.first, strict=True)]


def weekday_factors(totals: Mapping[date, float], through: date) -> tuple[float, ...]:
    """Monday..Sunday factors of the platform series ``totals`` as of ``through`` (see the module)."""
    grid = _Grid({"total": totals}, through)
    return grid.factors(grid.length - 1)


@dataclass(frozen=True)
class MonthEndForecast:
    """One series' month as of a day: the month to date and two month-end forecasts."""

    actual: float  # month to date, through the as-of day
    seasonal: float  # month-end, weekly-seasonal
    run_rate: float  # month-end, month-to-date mean x days in the month
    days_elapsed: int
    days_in_month: int


def month_end_forecasts(series_by_key: Mapping[K, Mapping[date, float]], through: date) -> dict[K, MonthEndForecast]:
    """The month-end forecast of every series as of the end of ``through`` (daily values by day;
    a day missing after a series' first day is 0; days after ``through`` are not read). Factors
    come from the sum of all series."""
    return _month_end(_Grid(series_by_key, through), through)


def forecast_and_backtest(series_by_key: Mapping[K, Mapping[date, float]], through: date, *,
                          origins: int = BACKTEST_ORIGINS) -> tuple[dict[K, MonthEndForecast], Backtest]:
    """:func:`month_end_forecasts` and :func:`backtest` of the same series, laid out once."""
    grid = _Grid(series_by_key, through)
    return _month_end(grid, through), _backtest(grid, origins)


def _month_end(grid: _Grid, through: date) -> dict:
    t = grid.length - 1
    month_start, days_in_month = _month_days(through)
    elapsed = (through - month_start).days + 1
    factors = grid.factors(t)
    levels = grid.levels(t, [1.0 / f for f in factors])
    remaining = [(through + timedelta(days=i)).weekday() for i in range(1, days_in_month - elapsed + 1)]
    remaining_weight = sum(factors[w] for w in remaining)
    start = max(0, (month_start - grid.base).days)
    forecasts: dict[K, MonthEndForecast] = {}
    for row, key in enumerate(grid.keys):
        actual = sum(grid.values[row][start:t + 1])
        seasonal = actual + levels[row] * remaining_weight
        forecasts[key] = MonthEndForecast(actual, seasonal, actual / elapsed * days_in_month, elapsed, days_in_month)
    return forecasts


@dataclass(frozen=True)
class Backtest:
    """Errors of both methods on the cases the backtest could judge (fractions, not percent)."""

    seasonal_mape: float | None
    run_rate_mape: float | None
    seasonal_wape: float | None
    run_rate_wape: float | None
    cases: int
    origins: int

    @property
    def improvement(self) -> float | None:
        """How much smaller the seasonal MAPE is than the run rate's (a fraction of the latter)."""
        if self.seasonal_mape is None or not self.run_rate_mape:
            return None
        return 1 - self.seasonal_mape / self.run_rate_mape


def backtest(series_by_key: Mapping[K, Mapping[date, float]], through: date, *,
             origins: int = BACKTEST_ORIGINS) -> Backtest:
    """Replay both methods on the days through ``through`` (see the module docstring)."""
    return _backtest(_Grid(series_by_key, through), origins)


def _backtest(grid: _Grid, origins: int) -> Backtest:
    last = grid.length - 1
    cumulative = [list(itertools.accumulate(values, initial=0.0)) for values in grid.values]
    seasonal_ape = run_rate_ape = 0.0
    seasonal_abs = run_rate_abs = actual_sum = 0.0
    cases = 0
    used_origins = 0
    for t in range(max(0, last - origins), last):
        origin_day = grid.base + timedelta(days=t)
        month_first, days_in_month = _month_days(origin_day)
        horizon = min(days_in_month - origin_day.day, last - t)
        if horizon < 1:  # the origin is a month's last day: nothing of its month is left
            continue
        factors = grid.factors(t)
        levels = grid.levels(t, [1.0 / f for f in factors])
        weight = sum(factors[grid.weekdays[t + i]] for i in range(1, horizon + 1))
        month_start = max(0, (month_first - grid.base).days)
        counted = False
        for row in range(len(grid.keys)):
            if t - grid.first[row] + 1 < MIN_HISTORY_DAYS:
                continue
            running = cumulative[row]  # running[i] = the sum of the days before index i
            actual = running[t + 1 + horizon] - running[t + 1]
            if actual <= 0:
                continue
            seasonal = levels[row] * weight
            mtd_start = max(month_start, grid.first[row])
            run_rate = (running[t + 1] - running[mtd_start]) / (t - mtd_start + 1) * horizon
            seasonal_ape += abs(seasonal - actual) / actual
            run_rate_ape += abs(run_rate - actual) / actual
            seasonal_abs += abs(seasonal - actual)
            run_rate_abs += abs(run_rate - actual)
            actual_sum += actual
            cases += 1
            counted = True
        used_origins += counted
    if not cases:
        return Backtest(None, None, None, None, 0, 0)
    return Backtest(seasonal_ape / cases, run_rate_ape / cases, seasonal_abs / actual_sum, run_rate_abs / actual_sum,
                    cases, used_origins)
