"""Checks of the cost attribution: it adds up to the cent (blocking), and tenants stay in budget."""

from datetime import timedelta

import dagster as dg

from analytics_pipeline.costs.attribution import reconcile_with_infra_costs
from analytics_pipeline.costs.budgets import (
    BudgetFileError,
    BudgetLevel,
    daily_attributed_costs,
    describe,
    evaluate_budgets,
    load_budgets,
    month_to_date_costs,
    seasonal_forecasts,
)
from analytics_pipeline.defs.costs.assets import tenant_cost_attribution
from analytics_pipeline.defs.resources import BudgetSettings, WarehouseResource
from analytics_pipeline.defs.shared import check_each_partition, daily_partitions, markdown_table, window_metadata

ATTRIBUTION_RECONCILES = "attributed_cost_equals_infra_cost"
TENANT_BUDGETS = "tenant_budgets"


@dg.asset_check(asset=tenant_cost_attribution, name=ATTRIBUTION_RECONCILES, blocking=True,
                partitions_def=daily_partitions)
def attributed_cost_equals_infra_cost(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    """For every day, the attributed cents of all tenants (unattributed shared cost included)
    equal the day's infrastructure cost total rounded to the cent, exactly: attribution
    neither loses nor invents a cent. A day with cost but no attribution fails too. One
    result per day of the run."""
    with warehouse.connect() as conn:
        yield from check_each_partition(context, daily_partitions, lambda _, window: _reconciliation_result(
            window, reconcile_with_infra_costs(conn, window.start, window.end)))


def _reconciliation_result(window: dg.TimeWindow, days) -> dg.AssetCheckResult:
    mismatched = [d for d in days if d.difference != 0]
    infra_total = sum(d.infra_total for d in days)
    attributed_total = sum(d.attributed_total for d in days)
    metadata = {
        **window_metadata(window),
        "days_checked": len(days),
        "infra_cost_total": str(infra_total),
        "attributed_total": str(attributed_total),
        "difference": str(attributed_total - infra_total),
        "mismatched_days": len(mismatched),
    }
    if mismatched:
        metadata["mismatches"] = markdown_table(
            ("day", "infra cost", "attributed", "difference"),
            ((d.usage_date, d.infra_total, d.attributed_total, d.difference) for d in mismatched), limit=31)
    return dg.AssetCheckResult(
        passed=not mismatched,
        description=(f"{len(mismatched)} of {len(days)} day(s) attribute a different total than their "
                     f"infrastructure cost" if mismatched
                     else f"{len(days)} day(s): attributed {attributed_total} = infrastructure cost {infra_total}"),
        metadata=metadata,
    )


def _budget_table(evaluation) -> dg.MetadataValue:
    return markdown_table(
        ("budget", "monthly budget", "spent", "%", "forecast", "forecast %", "status"),
        ((s.name, s.budget, s.actual, s.actual_percent, s.forecast, s.forecast_percent,
          f"{s.level.name}{': ' + ', '.join(s.reasons) if s.reasons else ''}") for s in evaluation.statuses))


# A multi_asset_check (can_subset) rather than @asset_check: without a budgets file it yields no
# result, and Dagster then shows the check as skipped instead of a misleading pass.
TENANT_BUDGETS_SPEC = dg.AssetCheckSpec(
    TENANT_BUDGETS, asset=tenant_cost_attribution, partitions_def=daily_partitions,
    description="Month-to-date attributed cost and its month-end forecast (weekly-seasonal) against the "
                "monthly budgets in ANALYTICS_BUDGETS_FILE, per tenant and in total: WARN at 80 %, ERROR "
                "at 100 % (the thresholds are in the file), naming the tenants. Skipped (not run) when no "
                "budgets file is configured.")


@dg.multi_asset_check(specs=[TENANT_BUDGETS_SPEC], can_subset=True)
def tenant_budgets(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource,
                   budget_settings: BudgetSettings):
    """Evaluates the budgets as of the end of each day of the run (one result per day)."""
    path = budget_settings.budgets_file
    if not path:
        context.log.info(f"{TENANT_BUDGETS} skipped: no budgets file configured (set ANALYTICS_BUDGETS_FILE to a "
                         ".json or .toml file, see analytics_pipeline/costs/budgets.example.json)")
        return
    with warehouse.connect() as conn:
        yield from check_each_partition(context, daily_partitions, lambda _, window: _budgets_result(
            conn, path, window.end.date() - timedelta(days=1)))


def _budgets_result(conn, path: str, through) -> dg.AssetCheckResult:
    try:
        budgets = load_budgets(path)
        costs = month_to_date_costs(conn, through)
        history = daily_attributed_costs(conn, through)
        evaluation = evaluate_budgets(budgets, through=through, tenant_costs=costs.tenant_costs,
                                      currency=costs.currency, forecasts=seasonal_forecasts(history, through))
    except BudgetFileError as error:
        return dg.AssetCheckResult(check_name=TENANT_BUDGETS, passed=False, severity=dg.AssetCheckSeverity.ERROR,
                                   description=f"budgets cannot be evaluated: {error}",
                                   metadata={"budgets_file": path})
    failed = [s.name for s in evaluation.at_level(BudgetLevel.FAIL)]
    warned = [s.name for s in evaluation.at_level(BudgetLevel.WARN)]
    return dg.AssetCheckResult(
        check_name=TENANT_BUDGETS,
        passed=evaluation.level is BudgetLevel.OK,
        severity=dg.AssetCheckSeverity.ERROR if failed else dg.AssetCheckSeverity.WARN,
        description=describe(evaluation),
        metadata={
            "budgets_file": path,
            "month": f"{evaluation.month_start:%Y-%m}",
            "through": evaluation.through.isoformat(),
            "days_elapsed": evaluation.days_elapsed,
            "days_with_costs": costs.days_with_costs,
            "forecast_method": "weekly-seasonal (analytics_pipeline.metrics.forecasting)",
            "budgets": len(evaluation.statuses),
            "failed": failed,
            "warning": warned,
            "evaluation": _budget_table(evaluation),
        },
    )
