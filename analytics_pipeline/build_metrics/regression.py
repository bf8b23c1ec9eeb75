"""Duration regressions and duration budgets of CI commands.

Regression: per (service, command), the median duration of the last ``window_runs``
successful runs against the median of the ``window_runs`` before them. An increase of
``warn_increase`` (default +20%) warns, ``fail_increase`` (+50%) fails. For an offender the
change point within those runs (the split that best separates a fast and a slow segment)
names the first slow run and its commit, and the last fast run's commit: the shift began
between the two.

Budget: per command, a percentile of the successful runs' durations (e.g. ``make check``
p95 under 180 s) over a window of days, per service.

Medians and percentiles are computed in SQL (``sql/build_metrics``); only the change point
is found in Python, over at most ``2 * window_runs`` durations.
"""

from __future__ import annotations

import enum
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import psycopg

from analytics_pipeline.warehouse.sql import load_sql


class Verdict(enum.StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    INSUFFICIENT_HISTORY = "insufficient_history"


@dataclass(frozen=True)
class RegressionPolicy:
    """How many runs to compare and the relative increases that warn and fail."""

    window_runs: int = 20
    warn_increase: float = 0.20
    fail_increase: float = 0.50

    def __post_init__(self):
        if self.window_runs < 2:
            raise ValueError("window_runs must be at least 2")
        if not 0 < self.warn_increase <= self.fail_increase:
            raise ValueError("need 0 < warn_increase <= fail_increase")

    def verdict(self, increase: float) -> Verdict:
        if increase >= self.fail_increase:
            return Verdict.FAIL
        if increase >= self.warn_increase:
            return Verdict.WARN
        return Verdict.OK


@dataclass(frozen=True)
class ShiftPoint:
    """Where a duration shift began: the first slow run, and the last fast run before it."""

    run_id: str
    started_at: datetime
    commit_sha: str
    last_fast_run_id: str
    last_fast_commit_sha: str


@dataclass(frozen=True)
class DurationComparison:
    """Recent against baseline median duration of one (service, command)."""

    service: str
    command: str
    recent_runs: int
    baseline_runs: int
    recent_median_seconds: float | None
    baseline_median_seconds: float | None
    increase: float | None  # recent / baseline - 1
    verdict: Verdict
    shift: ShiftPoint | None = None

    @property
    def offender(self) -> bool:
        return self.verdict in (Verdict.WARN, Verdict.FAIL)

    def describe(self) -> str:
        """One line for a person: the figures, and where the shift began."""
        if self.verdict is Verdict.INSUFFICIENT_HISTORY:
            return (f"{self.service} / {self.command}: {self.recent_runs + self.baseline_runs} successful runs, "
                    f"not enough to compare")
        text = (f"{self.service} / {self.command}: median {self.recent_median_seconds:.1f} s over the last "
                f"{self.recent_runs} successful runs vs {self.baseline_median_seconds:.1f} s over the "
                f"{self.baseline_runs} before ({self.increase:+.0%})")
        if self.shift is not None:
            text += (f"; shift began at commit {self.shift.commit_sha} (run {self.shift.run_id}, "
                     f"{self.shift.started_at:%Y-%m-%d %H:%M} UTC), last fast commit "
                     f"{self.shift.last_fast_commit_sha}")
        return text


def change_point(durations: Sequence[float], min_segment: int = 2) -> int | None:
    """The index of the first value of the slower segment of ``durations`` (oldest first): the
    split into two segments, each at least ``min_segment`` long and the later one slower, that
    minimises the total absolute deviation from the segments' medians. None without such a split."""
    best, best_cost = None, float("inf")
    for split in range(min_segment, len(durations) - min_segment + 1):
        before, after = durations[:split], durations[split:]
        before_median, after_median = statistics.median(before), statistics.median(after)
        if after_median <= before_median:
            continue
        cost = sum(abs(d - before_median) for d in before) + sum(abs(d - after_median) for d in after)
        if cost < best_cost:
            best, best_cost = split, cost
    return best


def compare_recent_durations(conn: psycopg.Connection, policy: RegressionPolicy,
                             end_day: date) -> list[DurationComparison]:
    """Every (service, command) with successful runs in files dated before ``end_day``,
    compared under ``policy``; offenders carry the point where their shift began."""
    rows = conn.execute(load_sql("build_metrics/recent_successful_runs"),
                        {"end_day": end_day, "window_runs": policy.window_runs}).fetchall()
    comparisons = []
    for (service, command, recent_runs, baseline_runs, recent_median, baseline_median,
         run_ids, started_ats, durations, commit_shas) in rows:
        if baseline_runs < policy.window_runs or not baseline_median:
            comparisons.append(DurationComparison(service, command, recent_runs, baseline_runs, recent_median,
                                                  baseline_median, None, Verdict.INSUFFICIENT_HISTORY))
            continue
        increase = recent_median / baseline_median - 1
        verdict = policy.verdict(increase)
        shift = None
        if verdict is not Verdict.OK:
            split = change_point(durations)
            if split is not None:
                shift = ShiftPoint(run_id=run_ids[split], started_at=started_ats[split],
                                   commit_sha=commit_shas[split], last_fast_run_id=run_ids[split - 1],
                                   last_fast_commit_sha=commit_shas[split - 1])
        comparisons.append(DurationComparison(service, command, recent_runs, baseline_runs, recent_median,
                                              baseline_median, increase, verdict, shift))
    return comparisons


@dataclass(frozen=True)
class DurationBudget:
    """A non-functional requirement: ``command``'s ``percentile`` duration stays under ``max_seconds``."""

    command: str
    max_seconds: float
    percentile: float = 0.95

    def __post_init__(self):
        if not 0 < self.percentile <= 1:
            raise ValueError("percentile must be within (0, 1]")
        if self.max_seconds <= 0:
            raise ValueError("max_seconds must be positive")

    @property
    def label(self) -> str:
        return f"{self.command} p{self.percentile * 100:g} < {self.max_seconds:g} s"


DEFAULT_BUDGETS = (DurationBudget("make check", 180.0, 0.95),)


@dataclass(frozen=True)
class BudgetResult:
    """One service's observed percentile against one budget."""

    service: str
    budget: DurationBudget
    successful_runs: int
    observed_seconds: float

    @property
    def breached(self) -> bool:
        return self.observed_seconds > self.budget.max_seconds

    def describe(self) -> str:
        return (f"{self.service} / {self.budget.command}: p{self.budget.percentile * 100:g} "
                f"{self.observed_seconds:.1f} s over {self.successful_runs} successful runs "
                f"(budget {self.budget.max_seconds:g} s)")


def evaluate_budgets(conn: psycopg.Connection, budgets: Sequence[DurationBudget], first_day: date,
                     end_day: date) -> list[BudgetResult]:
    """Each budget against each service's successful runs of its command in ``[first_day, end_day)``."""
    results = []
    for budget in budgets:
        rows = conn.execute(load_sql("build_metrics/duration_percentile_by_service"), {
            "command": budget.command, "percentile": budget.percentile,
            "first_day": first_day, "end_day": end_day}).fetchall()
        results += [BudgetResult(service, budget, runs, observed) for service, runs, observed in rows]
    return results
