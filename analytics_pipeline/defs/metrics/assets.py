"""Business, customer and SRE metrics: activity, adoption, health, forecasts (daily), revenue
and top customers (monthly), endpoint, agent and session metrics (hourly)."""

import functools
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import psycopg
from psycopg import sql

from analytics_pipeline.costs.budgets import BudgetFileError
from analytics_pipeline.defs.metrics.resources import MetricsSettings
from analytics_pipeline.defs.resources import WarehouseResource
from analytics_pipeline.defs.shared import (
    RAW_USAGE_EVENTS,
    daily_partitions,
    hourly_partitions,
    markdown_table,
    monthly_partitions,
    partition_result,
    partition_windows,
    single_run_asset,
)
from analytics_pipeline.defs.tables import PLATFORM_ROWS, Figure, table_partition_result
from analytics_pipeline.metrics.activity import (
    RawEventsDroppedError,
    replace_activity,
    top_organizations_by_active_users,
)
from analytics_pipeline.metrics.adoption import replace_feature_adoption
from analytics_pipeline.metrics.forecast import replace_usage_forecasts
from analytics_pipeline.metrics.health import replace_customer_health
from analytics_pipeline.metrics.revenue import (
    PlansFileError,
    ranking_table,
    replace_monthly_revenue,
    replace_top_customers,
    revenue_table,
)
from analytics_pipeline.metrics.sre import replace_agent_metrics, replace_endpoint_metrics, replace_session_concurrency

DAILY_USAGE_ROLLUPS = dg.AssetKey("daily_usage_rollups")
TENANT_COST_ATTRIBUTION = dg.AssetKey("tenant_cost_attribution")
BUSINESS = "business_metrics"
SRE = "sre_metrics"
ANALYTICS_OWNERS = ["team:data-engineering"]
SRE_OWNERS = ["team:sre"]


_business_asset = functools.partial(single_run_asset, group_name=BUSINESS, owners=ANALYTICS_OWNERS)
_sre_asset = functools.partial(single_run_asset, group_name=SRE, owners=SRE_OWNERS)


@contextmanager
def _from_raw_events(warehouse: WarehouseResource) -> Iterator[psycopg.Connection]:
    """A warehouse connection for figures computed from the raw events: a window with days whose
    raw events retention dropped fails clearly, without retries (the events will not come back)."""
    try:
        with warehouse.connect() as conn:
            yield conn
    except RawEventsDroppedError as error:
        raise dg.Failure(description=str(error), allow_retries=False,
                         metadata={"dropped_days": [day.isoformat() for day in error.days]}) from None


def _recomputed(context: dg.AssetExecutionContext, warehouse: WarehouseResource, metrics_settings: MetricsSettings,
                recompute):
    """``recompute(conn, start, end, work_mem=...)`` over the run's window, on a
    :func:`_from_raw_events` connection: what an asset computed from the raw events alone runs."""
    window = context.partition_time_window
    with _from_raw_events(warehouse) as conn:
        return recompute(conn, window.start, window.end, work_mem=metrics_settings.work_mem)


@contextmanager
def _configuration_file(what: str, error_type: type[ValueError]) -> Iterator[None]:
    """A configuration file that cannot be read fails the run without retries (a retry reads it again)."""
    try:
        yield
    except error_type as error:
        raise dg.Failure(description=f"{what}: {error}", allow_retries=False) from error


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)


def _share_percent(part: int, whole: int) -> float:
    """``part`` of ``whole`` in percent to 3 decimals; 0.0 when there is no whole (an hour without any)."""
    return round(part / whole * 100, 3) if whole else 0.0


@_business_asset(daily_partitions, deps=[RAW_USAGE_EVENTS, DAILY_USAGE_ROLLUPS])
def daily_activity(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                   metrics_settings: MetricsSettings) -> dg.MaterializeResult:
    """Active users and active customers per UTC day, from the raw events:
    `analytics_user_activity_daily` (each end user's requests), `analytics_org_activity_daily`
    (per organization: requests and tokens as the rollups count them, p95 latency, DAU, WAU
    and MAU, exact, stickiness = DAU / MAU, lifecycle new / returning / reactivated) and
    `analytics_customer_activity_daily` (platform-wide: active, new, returning, reactivated and
    churned customers of the day and of the month to date, DAU / WAU / MAU). A user is an
    (organization, user_id) pair. An organization churns on its `ANALYTICS_CHURN_INACTIVE_DAYS`-th
    day without activity. The window is replaced whole; the trailing figures of the computed
    days up to 30 days after it are refreshed, so late events restate them too."""
    window = context.partition_time_window
    with _from_raw_events(warehouse) as conn:
        summary = replace_activity(conn, window.start, window.end,
                                   churn_days=metrics_settings.churn_inactive_days,
                                   work_mem=metrics_settings.work_mem)
        top = top_organizations_by_active_users(conn, summary.last_day) if summary.last_day else []
    figures = {name: Figure("sum", name) for name in (
        "request_count", "active_customers", "new_customers", "returning_customers", "reactivated_customers",
        "churned_customers", "dau", "wau", "mau")}
    return table_partition_result(context, warehouse, daily_partitions, "day", {
        **figures, "stickiness": Figure("avg", "stickiness")}, {
        "organization_days": summary.organization_days,
        "user_days": summary.user_days,
        "request_count": summary.request_count,
        "last_day": str(summary.last_day),
        "active_customers": summary.active_customers,
        "new_customers": summary.new_customers,
        "returning_customers": summary.returning_customers,
        "reactivated_customers": summary.reactivated_customers,
        "churned_customers": summary.churned_customers,
        "month_active_customers": summary.month_active_customers,
        "month_new_customers": summary.month_new_customers,
        "month_churned_customers": summary.month_churned_customers,
        "dau": summary.dau,
        "wau": summary.wau,
        "mau": summary.mau,
        "stickiness": summary.stickiness,
        "top_organizations_by_active_users": markdown_table(
            ["organization", "DAU", "WAU", "MAU", "stickiness", "requests", "lifecycle"],
            [[o.organization_id, o.active_users, o.wau, o.mau, o.stickiness, o.request_count, o.lifecycle]
             for o in top]),
    })


@_business_asset(daily_partitions, deps=[RAW_USAGE_EVENTS, daily_activity])
def feature_adoption(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                     metrics_settings: MetricsSettings) -> dg.MaterializeResult:
    """Feature adoption per UTC day: per feature (endpoint, agent type, tool) and organization,
    requests and distinct users (`analytics_org_feature_usage_daily`); per feature, the
    organizations and users that used it and their share of the day's active organizations
    (`analytics_feature_adoption_daily`). Each organization's first use of each feature is the
    view `analytics_view_feature_first_use`; the first uses that fall in the window are listed here."""
    summary = _recomputed(context, warehouse, metrics_settings, replace_feature_adoption)
    by_kind = {kind: sum(1 for f in summary.features if f.feature_kind == kind)
               for kind in ("endpoint", "agent_type", "tool")}
    return table_partition_result(context, warehouse, daily_partitions, "day", {
        "request_count": Figure("sum", "request_count"), "active_organizations": Figure("max", "active_organizations"),
    }, {
        "organization_feature_days": summary.organization_feature_days,
        "features_used": len(summary.features),
        **{f"{kind}_features": count for kind, count in by_kind.items()},
        "first_uses_in_window": len(summary.first_uses),
        "adoption_on_last_day": markdown_table(
            ["kind", "feature", "organizations", "share of active", "users", "requests"],
            [[f.feature_kind, f.feature, f.organizations, f"{f.organization_share:.0%}", f.users, f.request_count]
             for f in summary.features[:25]]),
        "first_uses": markdown_table(["first used", "organization", "kind", "feature"],
                                [[str(u.first_used_on), u.organization_id, u.feature_kind, u.feature]
                                 for u in summary.first_uses[-25:]]),
    })


@_business_asset(daily_partitions, deps=[daily_activity, TENANT_COST_ATTRIBUTION])
def customer_health(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                    metrics_settings: MetricsSettings) -> dg.MaterializeResult:
    """A 0-100 health score per organization and UTC day (`analytics_customer_health_daily`),
    for every organization active in the 35 days through the day: usage trend (last 7 days
    against the 28 before, weight 30), error rate (25), p95 latency against the platform's
    (15), days since last activity (15) and, where `ANALYTICS_BUDGETS_FILE` gives the tenant a
    budget, budget burn (15); bands healthy >= 70, at risk 40-69, critical < 40; a churn signal
    when the organization has been inactive `ANALYTICS_CHURN_INACTIVE_DAYS` days or its
    requests fell more than `ANALYTICS_CHURN_DROP_PERCENT` % week over week (the README's
    Metrics has every point of the formula)."""
    window = context.partition_time_window
    with _configuration_file("budgets file", BudgetFileError):
        budgets = metrics_settings.budgets()
    with warehouse.connect() as conn:
        summary = replace_customer_health(conn, window.start, window.end, policy=metrics_settings.health_policy(),
                                          budgets=budgets)
    scores = summary.last_day_scores
    return table_partition_result(context, warehouse, daily_partitions, "day", {
        "mean_score": Figure("avg", "score"), "lowest_score": Figure("min", "score"),
        "requests_last_7_days": Figure("sum", "requests_last_7_days"),
    }, {
        "scores": summary.scores,
        "last_day": str(summary.last_day),
        "organizations_scored": len(scores),
        "healthy": summary.in_band("healthy"),
        "at_risk": summary.in_band("at_risk"),
        "critical": summary.in_band("critical"),
        "churn_signals": len(summary.churn_signals),
        "mean_score": round(sum(s.score for s in scores) / len(scores), 1) if scores else None,
        "budgets_used": len(budgets),
        "least_healthy": markdown_table(
            ["organization", "score", "band", "churn signal", "trend", "error rate", "latency / platform",
             "days since active"],
            [[s.organization_id, s.score, s.band, s.churn_reason or "", s.usage_trend_ratio,
              None if s.error_rate is None else f"{s.error_rate:.1%}", s.latency_ratio, s.days_since_active]
             for s in scores[:15]]),
    })


@_business_asset(daily_partitions, deps=[DAILY_USAGE_ROLLUPS], kinds=("postgres", "python"))
def usage_forecasts(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Month-end forecasts as of the end of each UTC day (`analytics_usage_forecasts`): each
    organization's and the platform's requests, tokens and billed cost to date, forecast by the
    weekly-seasonal method (each day left at the organization's deseasonalized level of its
    last 14 days times the platform's day-of-week factor) and, beside it, by the run rate. The
    backtest of both methods on the 28 days before (`analytics_forecast_backtests`: MAPE and
    WAPE of the rest-of-month forecasts of each origin) is in the metadata; the budget check
    uses the same method."""
    window = context.partition_time_window
    with warehouse.connect() as conn:
        summary = replace_usage_forecasts(conn, window.start, window.end)
    platform = summary.platform
    metadata: dict = {"as_of": str(summary.as_of)}
    if platform is not None:
        metadata.update({
            "requests_to_date": platform.requests_to_date,
            "requests_forecast": platform.requests_forecast,
            "requests_run_rate": platform.requests_run_rate,
            "tokens_forecast": platform.tokens_forecast,
            "cost_to_date": float(platform.cost_to_date),
            "cost_forecast": float(platform.cost_forecast),
            "cost_run_rate": float(platform.cost_run_rate),
        })
    for metric, result in summary.backtests.items():
        metadata[f"{metric}_seasonal_mape_pct"] = _percent(result.seasonal_mape)
        metadata[f"{metric}_run_rate_mape_pct"] = _percent(result.run_rate_mape)
    metadata["backtest"] = markdown_table(
        ["metric", "seasonal MAPE %", "run rate MAPE %", "seasonal WAPE %", "run rate WAPE %", "cases"],
        [[metric, _percent(b.seasonal_mape), _percent(b.run_rate_mape), _percent(b.seasonal_wape),
          _percent(b.run_rate_wape), b.cases] for metric, b in summary.backtests.items()])
    metadata["top_forecasts"] = markdown_table(
        ["organization", "requests to date", "requests forecast", "cost to date", "cost forecast", "cost run rate"],
        [[f.organization_id, f.requests_to_date, f.requests_forecast, f.cost_to_date, f.cost_forecast,
          f.cost_run_rate] for f in summary.organizations[:10]])
    # Each day's own forecast: the platform's row of the forecasts made as of that day.
    return table_partition_result(context, warehouse, daily_partitions, "as_of", {
        name: Figure("max", name, PLATFORM_ROWS) for name in (
            "requests_to_date", "requests_forecast", "requests_run_rate", "tokens_forecast", "cost_to_date",
            "cost_forecast", "cost_run_rate")}, metadata)


@_business_asset(monthly_partitions, deps=[DAILY_USAGE_ROLLUPS])
def monthly_revenue(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                    metrics_settings: MetricsSettings) -> dg.MaterializeResult:
    """Revenue per organization and month (`analytics_monthly_revenue`): the billed usage (the
    daily rollups' cost), and with a plans file (`ANALYTICS_PLANS_FILE`: monthly commitments,
    discounts) the discounted usage, the commitment and the billed revenue = max(commitment,
    discounted usage), the month's MRR; without one, billed revenue is the usage."""
    with _configuration_file("plans file", PlansFileError):
        plans = metrics_settings.plans()
    reports = {}
    with warehouse.connect() as conn:
        for key, window in partition_windows(context, monthly_partitions):
            reports[key] = replace_monthly_revenue(conn, window.start.date(), plans)
    report = reports[max(reports)]
    return partition_result(context, {key: {
        "dagster/row_count": len(month.organizations),
        "mrr": float(month.mrr),
        "usage_revenue": float(month.usage_revenue),
        "committed_revenue": float(month.committed),
        "organizations_on_a_plan": sum(1 for o in month.organizations if o.plan),
    } for key, month in reports.items()}, {
        "month": report.month.isoformat(),
        "plans_file": metrics_settings.plans_file or "none: billed usage",
        "top_organizations_by_revenue": markdown_table(*revenue_table(report)),
        **({"months": markdown_table(["month", "MRR", "usage revenue"],
                                [[str(r.month), r.mrr, r.usage_revenue] for r in reports.values()])}
           if len(reports) > 1 else {}),
    }, windows_of=monthly_partitions)


@_business_asset(monthly_partitions, deps=[monthly_revenue])
def top_customers(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Every organization ranked by billed revenue and by usage (tokens) per month
    (`analytics_top_customers`), with its rank the month before and the change (positive:
    moved up; empty: new to the ranking)."""
    with warehouse.connect() as conn:
        for key in monthly_partitions.get_partition_keys_in_time_window(context.partition_time_window):
            month = monthly_partitions.time_window_for_partition_key(key).start.date()
            top = replace_top_customers(conn, month)
    movers = [c for c in top["revenue"] if c.rank_change]
    return table_partition_result(context, warehouse, monthly_partitions, "month", {
        "top_customer_revenue": Figure("max", "value", sql.SQL("t.ranking = 'revenue'"))}, {
        "month": month.isoformat(),
        "ranked_by_revenue": len(top["revenue"]),
        "new_in_top_10_by_revenue": sum(1 for c in top["revenue"] if c.previous_rank is None),
        "top_10_movers_by_revenue": len(movers),
        "top_by_revenue": markdown_table(*ranking_table(top["revenue"], "billed revenue")),
        "top_by_usage": markdown_table(*ranking_table(top["usage"], "tokens")),
    })


@_sre_asset(hourly_partitions, deps=[RAW_USAGE_EVENTS])
def endpoint_hourly_metrics(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                            metrics_settings: MetricsSettings) -> dg.MaterializeResult:
    """Per hour and endpoint, per organization and platform-wide (organization empty):
    requests by status class (2xx-5xx), 429s, exact p50/p95/p99 latency and queue wait, and
    error types sent on non-errors (`analytics_endpoint_hourly_metrics`); errors by status
    class and `error_type` (`analytics_error_type_hourly`)."""
    summary = _recomputed(context, warehouse, metrics_settings, replace_endpoint_metrics)
    return table_partition_result(context, warehouse, hourly_partitions, "bucket_start", {
        "request_count": Figure("sum", "request_count", PLATFORM_ROWS),
        "server_error_count": Figure("sum", "status_5xx", PLATFORM_ROWS),
        "rate_limited_count": Figure("sum", "rate_limited_count", PLATFORM_ROWS),
        "worst_p99_ms": Figure("max", "latency_p99_ms", PLATFORM_ROWS),
    }, {
        "request_count": summary.request_count,
        "server_error_count": summary.server_error_count,
        "server_error_rate_pct": _share_percent(summary.server_error_count, summary.request_count),
        "worst_p99_ms": summary.worst_p99_ms,
        "error_type_rows": summary.error_type_rows,
        "error_types_on_non_errors": summary.error_types_on_non_errors,
        "top_error_types": markdown_table(["status class", "error type", "errors"], summary.top_error_types),
    })


@_sre_asset(hourly_partitions, deps=[RAW_USAGE_EVENTS])
def agent_hourly_metrics(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                         metrics_settings: MetricsSettings) -> dg.MaterializeResult:
    """Per hour and agent type, per organization and platform-wide: agent invocations,
    failures (status >= 400, server >= 500) and duration p50/p95/p99
    (`analytics_agent_hourly_metrics`); per hour, organization and tool: tool calls, failures,
    distinct users and p95 duration (`analytics_tool_hourly_usage`)."""
    summary = _recomputed(context, warehouse, metrics_settings, replace_agent_metrics)
    return table_partition_result(context, warehouse, hourly_partitions, "bucket_start", {
        "agent_invocations": Figure("sum", "invocations", PLATFORM_ROWS),
        "agent_failures": Figure("sum", "failures", PLATFORM_ROWS),
        "worst_agent_p95_ms": Figure("max", "duration_p95_ms", PLATFORM_ROWS),
    }, {
        "agent_rows": summary.agent_rows,
        "agent_invocations": summary.invocations,
        "agent_failures": summary.failures,
        "agent_failure_rate_pct": _share_percent(summary.failures, summary.invocations),
        "worst_agent_p95_ms": summary.worst_p95_ms,
        "tool_rows": summary.tool_rows,
        "tool_calls": summary.tool_calls,
        "agent_types": markdown_table(["agent type", "invocations", "failures", "highest hourly p95 ms"],
                                 [list(row) for row in summary.by_agent_type]),
    })


@_sre_asset(hourly_partitions, deps=[RAW_USAGE_EVENTS])
def session_concurrency(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                        metrics_settings: MetricsSettings) -> dg.MaterializeResult:
    """Peak concurrent sessions per organization and hour (`analytics_session_concurrency_hourly`):
    a session spans its first to its last event (a gap of more than 24 hours ends it), so an
    hour counts the sessions that started before it and go on after it. Each hour's pieces
    (first and last event of each session in it) are kept in `analytics_session_hours`; an
    hour's figure depends on the events of the day either side of it, which the restatement
    sensor restates together."""
    summary = _recomputed(context, warehouse, metrics_settings, replace_session_concurrency)
    return table_partition_result(context, warehouse, hourly_partitions, "bucket_start", {
        "sessions": Figure("sum", "sessions"), "peak_concurrent_sessions": Figure("max", "peak_concurrent_sessions"),
    }, {
        "session_pieces": summary.pieces,
        "organization_hours": summary.rows,
        "peak_concurrent_sessions": summary.peak_concurrent_sessions,
        "peak_organization": summary.peak_organization or "",
        **({"peak_at": dg.MetadataValue.timestamp(summary.peak_at)} if summary.peak_at else {}),
    })


# The assets by partitioning, as the jobs select them (a run, and so a single-run range, covers one).
DAILY_METRICS = [daily_activity, feature_adoption, customer_health, usage_forecasts]
MONTHLY_METRICS = [monthly_revenue, top_customers]
HOURLY_SRE_METRICS = [endpoint_hourly_metrics, agent_hourly_metrics]
METRICS_ASSETS = [*DAILY_METRICS, *MONTHLY_METRICS, *HOURLY_SRE_METRICS, session_concurrency]
