"""Checks of the CI duration trends: regressions of recent runs, and per-command budgets.

Neither blocks anything (nothing downstream consumes the trends); both are configurable per
run through their config (launchpad or run config), with the defaults of the issue.
"""

import dagster as dg
from pydantic import Field

from analytics_pipeline.build_metrics.regression import (
    DEFAULT_BUDGETS,
    DurationBudget,
    RegressionPolicy,
    Verdict,
    compare_recent_durations,
    evaluate_budgets,
)
from analytics_pipeline.defs.build_metrics.assets import ci_duration_trends
from analytics_pipeline.defs.resources import WarehouseResource
from analytics_pipeline.defs.shared import check_each_partition, daily_partitions, window_metadata

CI_DURATION_REGRESSION = "ci_duration_regression"
CI_DURATION_BUDGET = "ci_duration_budget"


class DurationRegressionConfig(dg.Config):
    """Compare the median of the last `window_runs` successful runs with the `window_runs` before."""

    window_runs: int = RegressionPolicy.window_runs
    warn_increase: float = RegressionPolicy.warn_increase
    fail_increase: float = RegressionPolicy.fail_increase


class CommandBudgetConfig(dg.Config):
    """`command`'s `percentile` duration of successful runs must stay under `max_seconds`."""

    command: str
    max_seconds: float
    percentile: float = 0.95


class DurationBudgetsConfig(dg.Config):
    """The budgets to check; defaults to `DEFAULT_BUDGETS` (`make check` p95 under 180 s)."""

    # Dagster wants config defaults as plain values; validate_default makes them CommandBudgetConfig.
    budgets: list[CommandBudgetConfig] = Field(
        default=[{"command": b.command, "max_seconds": b.max_seconds, "percentile": b.percentile}
                 for b in DEFAULT_BUDGETS],
        validate_default=True,
    )


def _markdown(header: str, lines: list[str]) -> dg.MetadataValue:
    return dg.MetadataValue.md(f"{header}\n\n" + "\n".join(f"- {line}" for line in lines))


@dg.asset_check(asset=ci_duration_trends, name=CI_DURATION_REGRESSION, partitions_def=daily_partitions)
def ci_duration_regression(context: dg.AssetCheckExecutionContext, config: DurationRegressionConfig,
                           warehouse: WarehouseResource):
    """Per service and command, the median duration of the last 20 successful runs (as of the
    end of the partition) against the median of the 20 before: warns at +20%, fails at +50%
    (configurable). Names the offenders and the commit where each shift began. One result per
    day of the run, as of that day's end."""
    policy = RegressionPolicy(config.window_runs, config.warn_increase, config.fail_increase)
    with warehouse.connect() as conn:
        yield from check_each_partition(context, daily_partitions, lambda _, window: _regression_result(
            conn, policy, window))


def _regression_result(conn, policy: RegressionPolicy, window: dg.TimeWindow) -> dg.AssetCheckResult:
    end_day = window.end.date()
    comparisons = compare_recent_durations(conn, policy, end_day)
    offenders = sorted((c for c in comparisons if c.offender), key=lambda c: -c.increase)
    compared = [c for c in comparisons if c.verdict is not Verdict.INSUFFICIENT_HISTORY]
    failing = any(c.verdict is Verdict.FAIL for c in offenders)
    metadata = {
        **window_metadata(window),
        "as_of_day": end_day.isoformat(),
        "window_runs": policy.window_runs,
        "warn_increase": policy.warn_increase,
        "fail_increase": policy.fail_increase,
        "groups_compared": len(compared),
        "groups_without_enough_history": len(comparisons) - len(compared),
        "offenders": len(offenders),
        "largest_increase": round(max((c.increase for c in compared), default=0.0), 4),
    }
    if offenders:
        metadata["regressions"] = _markdown("Recent vs previous median duration:", [c.describe() for c in offenders])
        metadata["shift_commits"] = [c.shift.commit_sha for c in offenders if c.shift is not None]
        description = "; ".join(c.describe() for c in offenders)
    else:
        description = f"no duration regression in {len(compared)} service/command pairs"
        if len(comparisons) > len(compared):
            description += (f"; {len(comparisons) - len(compared)} more have fewer than "
                            f"{2 * policy.window_runs} successful runs")
    return dg.AssetCheckResult(
        passed=not offenders,
        severity=dg.AssetCheckSeverity.ERROR if failing else dg.AssetCheckSeverity.WARN,
        description=description,
        metadata=metadata,
    )


@dg.asset_check(asset=ci_duration_trends, name=CI_DURATION_BUDGET, partitions_def=daily_partitions)
def ci_duration_budget(context: dg.AssetCheckExecutionContext, config: DurationBudgetsConfig,
                       warehouse: WarehouseResource):
    """NFR budgets per command over the partition's successful runs, per service (default:
    `make check` p95 under 180 s); warns when a service breaches one. One result per day."""
    budgets = [DurationBudget(b.command, b.max_seconds, b.percentile) for b in config.budgets]
    with warehouse.connect() as conn:
        yield from check_each_partition(context, daily_partitions, lambda _, window: _budget_result(
            conn, budgets, window))


def _budget_result(conn, budgets: list[DurationBudget], window: dg.TimeWindow) -> dg.AssetCheckResult:
    results = evaluate_budgets(conn, budgets, window.start.date(), window.end.date())
    breaches = [r for r in results if r.breached]
    metadata = {
        **window_metadata(window),
        "budgets": [b.label for b in budgets],
        "services_checked": len(results),
        "breaches": len(breaches),
    }
    if results:
        metadata["worst_budget_ratio"] = round(max(r.observed_seconds / r.budget.max_seconds for r in results), 4)
        metadata["observed"] = _markdown("Observed against budget:", [r.describe() for r in results])
    return dg.AssetCheckResult(
        passed=not breaches,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(f"over budget: {r.describe()}" for r in breaches)
        or f"{len(results)} service/command pairs within budget",
        metadata=metadata,
    )
