"""Checks of the metrics: activity agrees with the rollups (blocking), DAU <= WAU <= MAU, every
active organization has a health score, the forecast's backtest error stays under its bound."""

import dagster as dg

from analytics_pipeline.defs.metrics.assets import customer_health, daily_activity, usage_forecasts
from analytics_pipeline.defs.metrics.resources import MetricsSettings
from analytics_pipeline.defs.resources import WarehouseResource
from analytics_pipeline.defs.shared import check_each_partition, daily_partitions, markdown_table, window_metadata
from analytics_pipeline.metrics.activity import day_bounds
from analytics_pipeline.metrics.checks import (
    activity_mismatches,
    organizations_without_health,
    trailing_activity_violations,
)
from analytics_pipeline.metrics.forecast import backtests_between

ACTIVITY_MATCHES_ROLLUPS = "activity_matches_rollups"
DAU_WITHIN_MAU = "dau_within_wau_within_mau"
EVERY_ACTIVE_ORGANIZATION_SCORED = "every_active_organization_has_a_health_score"
FORECAST_BACKTEST_WITHIN_BOUND = "forecast_backtest_within_bound"


def _each_day(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, judge):
    """One result per day of the run, ``judge(conn, window, first_day, end_day)`` on one connection."""
    with warehouse.connect() as conn:
        yield from check_each_partition(context, daily_partitions,
                                        lambda _, window: judge(conn, window, *day_bounds(window.start, window.end)))


@dg.asset_check(asset=daily_activity, name=ACTIVITY_MATCHES_ROLLUPS, blocking=True, partitions_def=daily_partitions)
def activity_matches_rollups(context: dg.AssetCheckExecutionContext,
                             warehouse: WarehouseResource):
    """Every organization day's requests and tokens in the activity equal the daily rollups'
    (summed over models), and neither has a day the other lacks: the metrics count the events
    billing counts."""
    yield from _each_day(context, warehouse, _activity_result)


def _activity_result(conn, window: dg.TimeWindow, first_day, end_day) -> dg.AssetCheckResult:
    mismatches, rows, requests = activity_mismatches(conn, first_day, end_day)
    metadata = {**window_metadata(window), "organization_days": rows, "request_count": requests,
                "mismatched_days": len(mismatches)}
    if mismatches:
        metadata["mismatches"] = markdown_table(
            ("day", "organization", "rollup requests", "activity requests", "rollup tokens", "activity tokens"),
            ((m.day, m.organization_id, m.rollup_requests, m.activity_requests, m.rollup_tokens, m.activity_tokens)
             for m in mismatches))
    return dg.AssetCheckResult(
        passed=not mismatches, metadata=metadata,
        description=(f"{len(mismatches)}{'+' if len(mismatches) == 20 else ''} organization day(s) differ from "
                     "the daily rollups" if mismatches
                     else f"{rows} organization day(s), {requests:,} requests: equal to the daily rollups"))


@dg.asset_check(asset=daily_activity, name=DAU_WITHIN_MAU, partitions_def=daily_partitions)
def dau_within_wau_within_mau(context: dg.AssetCheckExecutionContext,
                              warehouse: WarehouseResource):
    """DAU <= WAU <= MAU on every day, per organization and for the platform (and no
    organization day without its trailing figures)."""
    yield from _each_day(context, warehouse, _trailing_activity_result)


def _trailing_activity_result(conn, window: dg.TimeWindow, first_day, end_day) -> dg.AssetCheckResult:
    violations = trailing_activity_violations(conn, first_day, end_day)
    metadata = {**window_metadata(window), "violations": len(violations)}
    if violations:
        metadata["examples"] = markdown_table(
            ("day", "organization", "DAU", "WAU", "MAU"),
            ((day, org or "(platform)", dau, wau, mau) for day, org, dau, wau, mau in violations))
    return dg.AssetCheckResult(passed=not violations, metadata=metadata,
                               description=f"{len(violations)} day(s) break DAU <= WAU <= MAU" if violations
                               else "DAU <= WAU <= MAU on every day, per organization and platform-wide")


@dg.asset_check(asset=customer_health, name=EVERY_ACTIVE_ORGANIZATION_SCORED, partitions_def=daily_partitions)
def every_active_organization_has_a_health_score(context: dg.AssetCheckExecutionContext,
                                                 warehouse: WarehouseResource):
    """Every organization active on a day has a health score that day."""
    yield from _each_day(context, warehouse, _health_scores_result)


def _health_scores_result(conn, window: dg.TimeWindow, first_day, end_day) -> dg.AssetCheckResult:
    missing, count, active = organizations_without_health(conn, first_day, end_day)
    metadata = {**window_metadata(window), "active_organization_days": active, "without_a_score": count}
    if missing:
        metadata["examples"] = dg.MetadataValue.md("\n".join(f"- {day}: `{org}`" for day, org in missing))
    return dg.AssetCheckResult(passed=not count, metadata=metadata,
                               description=f"{count} of {active} active organization day(s) have no health score"
                               if count else f"all {active} active organization day(s) have a health score")


@dg.asset_check(asset=usage_forecasts, name=FORECAST_BACKTEST_WITHIN_BOUND, partitions_def=daily_partitions)
def forecast_backtest_within_bound(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource,
                                   metrics_settings: MetricsSettings):
    """The seasonal method's backtest MAPE of requests (each organization's rest-of-month
    forecasts from the 28 days before each as-of day) stays at or under
    `ANALYTICS_FORECAST_MAPE_BOUND_PERCENT` percent on every day of the window; warns otherwise.
    Days the backtest cannot judge yet (under a week of history) are not counted."""
    yield from _each_day(context, warehouse, lambda conn, window, first, end: _backtest_result(
        conn, window, first, end, metrics_settings.forecast_mape_bound_percent))


def _backtest_result(conn, window: dg.TimeWindow, first_day, end_day, bound: float) -> dg.AssetCheckResult:
    rows = backtests_between(conn, first_day, end_day)
    requests = [r for r in rows if r.metric == "requests" and r.seasonal_mape is not None]
    over = [r for r in requests if r.seasonal_mape * 100 > bound]
    worst = max(requests, key=lambda r: r.seasonal_mape, default=None)
    metadata = {**window_metadata(window), "bound_pct": bound, "days_judged": len(requests),
                "days_over_bound": len(over)}
    if worst is not None:
        metadata.update({"worst_seasonal_mape_pct": round(worst.seasonal_mape * 100, 2),
                         "worst_day": str(worst.as_of),
                         "mean_seasonal_mape_pct": round(sum(r.seasonal_mape for r in requests) / len(requests) * 100,
                                                         2),
                         "mean_run_rate_mape_pct": round(sum(r.run_rate_mape for r in requests) / len(requests) * 100,
                                                         2)})
    if over:
        metadata["over_bound"] = markdown_table(
            ("as of", "seasonal MAPE %", "run rate MAPE %", "cases"),
            ((r.as_of, round(r.seasonal_mape * 100, 2), round(r.run_rate_mape * 100, 2), r.cases) for r in over),
            limit=31)
    if not requests:
        description = "no day of the window has enough history to backtest yet"
    elif over:
        description = (f"{len(over)} of {len(requests)} day(s) over the bound of {bound:g} %: worst "
                       f"{worst.seasonal_mape * 100:.1f} % as of {worst.as_of}")
    else:
        description = (f"{len(requests)} day(s) within {bound:g} %: worst {worst.seasonal_mape * 100:.1f} % "
                       f"(run rate {worst.run_rate_mape * 100:.1f} %) as of {worst.as_of}")
    return dg.AssetCheckResult(passed=not over, severity=dg.AssetCheckSeverity.WARN, metadata=metadata,
                               description=description)
