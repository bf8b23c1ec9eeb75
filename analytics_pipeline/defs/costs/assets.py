"""Per-tenant cost: daily infrastructure costs, their attribution to tenants, and profitability."""

import functools
from datetime import date, timedelta
from decimal import Decimal

import dagster as dg
from psycopg import sql

from analytics_pipeline.costs.attribution import AllocationDriver, replace_cost_attribution, round_cents
from analytics_pipeline.costs.cost_explorer import DEFAULT_METRIC
from analytics_pipeline.costs.focus import DEFAULT_COST_COLUMN
from analytics_pipeline.costs.infra_costs import (
    DEFAULT_TENANT_TAG,
    CostSource,
    Environment,
    InfraCostError,
    replace_infra_costs,
)
from analytics_pipeline.costs.profitability import ProfitabilityReport, replace_profitability, top_tenants_table
from analytics_pipeline.costs.sources import cost_by_environment_and_category, cost_by_service, fetch_infra_costs
from analytics_pipeline.defs.costs.resources import CostExplorerResource, CostSettings
from analytics_pipeline.defs.resources import ClockResource, ObjectStorageResource, WarehouseResource
from analytics_pipeline.defs.shared import (
    NETWORK_RETRY,
    daily_partitions,
    markdown_table,
    monthly_partitions,
    partition_result,
    partition_windows,
    single_run_asset,
)
from analytics_pipeline.defs.tables import Figure, table_partition_result

DAILY_USAGE_ROLLUPS = dg.AssetKey("daily_usage_rollups")
GROUP = "costs"
OWNERS = ["team:data-engineering"]
_costs_asset = functools.partial(single_run_asset, group_name=GROUP, owners=OWNERS)


class DailyInfraCostsConfig(dg.Config):
    """Where the days' infrastructure cost comes from."""

    source: CostSource | None = None  # None: the configured source (FOCUS exports by default)
    cost_explorer_metric: str = DEFAULT_METRIC  # UnblendedCost, AmortizedCost, NetUnblendedCost...
    focus_cost_column: str = DEFAULT_COST_COLUMN  # BilledCost (invoiced) or EffectiveCost (amortized)
    tenant_tag_key: str = DEFAULT_TENANT_TAG


def _money(amount: Decimal) -> float:
    return float(round_cents(amount))


@_costs_asset(daily_partitions, retry_policy=NETWORK_RETRY, kinds=("aws", "s3", "postgres"))
def daily_infra_costs(
    context: dg.AssetExecutionContext,
    config: DailyInfraCostsConfig,
    warehouse: WarehouseResource,
    object_storage: ObjectStorageResource,
    cost_explorer: CostExplorerResource,
    cost_settings: CostSettings,
) -> dg.MaterializeResult:
    """Infrastructure cost per UTC day, tenant, AWS service, environment and `service` tag
    (`analytics_infra_costs`), each row with its cost category (compute, API, data transfer,
    storage, other).

    Source (run config `source`): AWS Cost Explorer `GetCostAndUsage` (DAILY, grouped by the
    `customer_id` tag and SERVICE, one request per environment x service tag filter, every
    page, the `Estimated` flag kept), or the FOCUS cost exports under
    `ANALYTICS_FOCUS_COSTS_URL/BILLING_PERIOD=YYYY-MM/` (the default). Cost without the tenant
    tag (Cost Explorer's `customer_id$`) is kept as shared cost; staging and untagged-environment
    cost is kept too, and reported apart: only production is attributed to tenants. Each day the
    source returned is replaced whole in one transaction; a day it returned nothing for keeps
    what it had (a lagging export never wipes loaded costs). Amounts are exact decimals.
    Cost Explorer revises recent days: `daily_cost_refresh_schedule` reloads the last 3."""
    window = context.partition_time_window
    start, end = window.start.date(), window.end.date()
    source = config.source or CostSource(cost_settings.source)
    try:
        fetched = fetch_infra_costs(source, start, end, cost_explorer=cost_explorer.get_client,
                                    focus_store=object_storage.focus_costs,
                                    cost_explorer_metric=config.cost_explorer_metric,
                                    focus_cost_column=config.focus_cost_column, tag_key=config.tenant_tag_key)
    except (InfraCostError, ValueError) as error:
        # Bad or missing cost data, or a bad config value: retrying cannot help (network errors still retry).
        raise dg.Failure(description=f"{source.value}: {error}", allow_retries=False) from error
    rows, days_with_data, missing_days = fetched.rows, fetched.days_with_data, fetched.days_without_data(start, end)
    if missing_days:
        context.log.warning(f"{source.value} returned no cost for {len(missing_days)} day(s) "
                            f"({', '.join(map(str, missing_days[:7]))}); their loaded rows, if any, are kept")
    with warehouse.connect() as conn:
        summary = replace_infra_costs(conn, rows, days=days_with_data, source=source, metric=fetched.metric,
                                      run_id=context.run.run_id)
    if summary.total and not summary.tagged_total:
        context.log.warning(f"no cost carries the '{config.tenant_tag_key}' tag: is it activated as a cost "
                            "allocation tag? Everything is shared cost.")
    context.log.info(f"{source.value}: {summary.row_count} rows over {len(days_with_data)} day(s), "
                     f"total {summary.total} ({summary.tagged_total} tagged, {summary.shared_total} shared)")
    shared_pct = float(round(summary.shared_total / summary.total * 100, 2)) if summary.total else 0.0
    production = sql.SQL("t.environment = {}").format(sql.Literal(Environment.PRODUCTION.value))
    return table_partition_result(context, warehouse, daily_partitions, "usage_date", {
        "cost_total": Figure("sum", "amount"),
        "tagged_cost": Figure("sum", "amount", sql.SQL("t.organization_id IS NOT NULL")),
        "production_cost": Figure("sum", "amount", production),
    }, {
        "source": source.value,
        "source_location": fetched.location,
        "cost_metric": fetched.metric,
        **fetched.figures,
        "days_loaded": len(summary.days_replaced),
        "days_without_source_data": [str(d) for d in missing_days],
        "tenants": summary.tenants,
        "services": summary.services,
        "currency": ", ".join(summary.currencies),
        "cost_total": _money(summary.total),
        "tagged_cost": _money(summary.tagged_total),
        "shared_cost": _money(summary.shared_total),
        "shared_cost_pct": shared_pct,
        "estimated_days": [str(d) for d in summary.estimated_days],
        "production_cost": _money(summary.by_environment.get(Environment.PRODUCTION.value, Decimal(0))),
        "staging_cost": _money(summary.by_environment.get(Environment.STAGING.value, Decimal(0))),
        "untagged_environment_cost": _money(summary.by_environment.get(Environment.UNTAGGED.value, Decimal(0))),
        **{f"production_{category}_cost": _money(amount)
           for category, amount in summary.production_by_category.items()},
        "cost_by_day": markdown_table(["day", "cost", "estimated"], [
            [str(day), round_cents(total), "yes" if day in summary.estimated_days else None]
            for day, total in sorted(summary.totals_by_day.items())]),
        "cost_by_environment_and_category": markdown_table(
            ["environment", "category", "cost", "attributed to tenants"], cost_by_environment_and_category(rows)),
        "cost_by_service": markdown_table(["service", "tagged", "shared"], cost_by_service(rows)),
    })


def _tenant_days_markdown(by_tenant: dict[str, list[date]]) -> str:
    return "\n".join(f"- `{tenant}`: {len(days)} day(s), {', '.join(map(str, days[:5]))}"
                     f"{' ...' if len(days) > 5 else ''}" for tenant, days in sorted(by_tenant.items()))


@_costs_asset(daily_partitions, deps=[daily_infra_costs, DAILY_USAGE_ROLLUPS])
def tenant_cost_attribution(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                            cost_settings: CostSettings) -> dg.MaterializeResult:
    """Each tenant's share of the day's production infrastructure cost
    (`analytics_tenant_cost_attribution`), split by cost category (compute, API, data transfer,
    storage, other): its tagged (direct) cost plus a share of the untagged (shared) cost in proportion to its
    usage that day, by the driver `ANALYTICS_COST_ALLOCATION_DRIVER` (tokens, requests or
    duration). Rounded to the cent by largest remainder, so a day's rows sum exactly to its
    cost total (checked, blocking). Tenants with cost but no usage, or usage but no tagged
    cost, get rows with that status; shared cost of a day without usage stays on an
    `unattributed` row without organization rather than being spread arbitrarily. Staging and
    untagged-environment cost is never attributed, not even when tagged with a tenant: it is
    reported in the metadata (`not_attributed_*`)."""
    window = context.partition_time_window
    driver = AllocationDriver.parse(cost_settings.allocation_driver)
    with warehouse.connect() as conn:
        summary = replace_cost_attribution(conn, window.start, window.end, driver, run_id=context.run.run_id)
    if summary.unattributed_days:
        context.log.warning(f"shared cost of {len(summary.unattributed_days)} day(s) without {driver.value} usage "
                            f"left unattributed: {summary.unattributed_total}")
    if summary.days_without_cost:
        context.log.warning(f"{len(summary.days_without_cost)} day(s) with usage but no infrastructure cost loaded: "
                            f"{', '.join(map(str, summary.days_without_cost[:7]))}")
    top = sorted(summary.attributed_by_tenant.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    metadata = {
        "driver": driver.value,
        "days": len(summary.days),
        "tenants": summary.tenants,
        "attributed_total": _money(summary.total),
        "direct_cost": _money(summary.direct_total),
        "shared_cost": _money(summary.shared_total),
        "unattributed_cost": _money(summary.unattributed_total),
        "unattributed_days": [str(d) for d in summary.unattributed_days],
        **{f"{category}_cost": _money(amount) for category, amount in summary.category_totals.items()},
        "not_attributed_staging_cost": _money(summary.not_attributed.get("staging", (Decimal(0),))[0]),
        "not_attributed_untagged_cost": _money(summary.not_attributed.get("untagged", (Decimal(0),))[0]),
        "not_attributed": markdown_table(
            ["environment", "cost", "of which tagged with a tenant", "tenants so tagged"],
            [[environment, round_cents(amount), round_cents(tagged), tenants]
             for environment, (amount, tagged, tenants) in sorted(summary.not_attributed.items())]),
        "days_without_cost": [str(d) for d in summary.days_without_cost],
        "tenants_with_cost_without_usage": len(summary.cost_without_usage),
        "tenants_with_usage_without_direct_cost": len(summary.usage_without_direct_cost),
        "top_tenants_by_cost": markdown_table(["organization", "attributed cost"], top),
    }
    if summary.cost_without_usage:
        metadata["cost_without_usage"] = dg.MetadataValue.md(_tenant_days_markdown(summary.cost_without_usage))
    if summary.usage_without_direct_cost:
        metadata["usage_without_direct_cost"] = dg.MetadataValue.md(
            _tenant_days_markdown(summary.usage_without_direct_cost))
    return table_partition_result(context, warehouse, daily_partitions, "usage_date", {
        "attributed_total": Figure("sum", "attributed_cost"),
        "direct_cost": Figure("sum", "direct_cost"),
        "unattributed_cost": Figure("sum", "attributed_cost", sql.SQL("t.organization_id IS NULL")),
        "request_count": Figure("sum", "request_count"),
    }, metadata)


# What each month of tenant_profitability carries as its own figures.
_MONTH_FIGURES = ("tenants", "revenue", "attributed_cost", "unattributed_cost", "margin", "margin_pct",
                  "unprofitable_tenants")


def _profitability_metadata(report: ProfitabilityReport) -> dict:
    margin_pct = report.margin_pct
    unattributed = sum((t.attributed_cost for t in report.tenants if t.organization_id is None), Decimal(0))
    return {
        "period_start": report.period_start.isoformat(),
        "period_end": report.period_end.isoformat(),
        "month_to_date": report.is_month_to_date,
        "tenants": sum(1 for t in report.tenants if t.organization_id is not None),
        "revenue": _money(report.revenue),
        "revenue_exact": str(report.revenue),
        "attributed_cost": _money(report.attributed_cost),
        "attributed_cost_exact": str(report.attributed_cost),
        "unattributed_cost": _money(unattributed),
        "margin": _money(report.margin),
        "margin_exact": str(report.margin),
        "margin_pct": float(margin_pct) if margin_pct is not None else None,
        "unprofitable_tenants": len(report.unprofitable),
        "top_tenants_by_revenue": markdown_table(*top_tenants_table(report, by="revenue")),
        "top_tenants_by_usage": markdown_table(*top_tenants_table(report, by="tokens")),
        **({"unprofitable": dg.MetadataValue.md(
            "\n".join(f"- `{t.organization_id}`: margin {round_cents(t.margin):,.2f} on revenue "
                      f"{round_cents(t.revenue):,.2f}" for t in report.unprofitable[:20]))}
           if report.unprofitable else {}),
    }


@_costs_asset(monthly_partitions, deps=[tenant_cost_attribution, DAILY_USAGE_ROLLUPS])
def tenant_profitability(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Revenue against attributed cost per tenant and month (`analytics_tenant_profitability`):
    revenue is what the usage is billed (the daily rollups' `cost_total`), cost the tenant's
    attributed infrastructure cost, margin = revenue - cost and margin % of revenue, per
    tenant and in total; shared cost no usage carried is its own row. The top tenants by
    revenue and by usage are in the metadata. The current month is
    `tenant_profitability_month_to_date`."""
    reports = {}
    with warehouse.connect() as conn:
        for key, month in partition_windows(context, monthly_partitions):
            report = replace_profitability(conn, month.start.date(), month.end.date(), is_month_to_date=False,
                                           run_id=context.run.run_id)
            context.log.info(f"{key}: revenue {round_cents(report.revenue)}, cost {report.attributed_cost}, "
                             f"margin {round_cents(report.margin)} ({report.margin_pct}%)")
            reports[key] = report
    metadata = _profitability_metadata(reports[max(reports)])
    if len(reports) > 1:
        metadata["months"] = markdown_table(["month", "revenue", "cost", "margin", "margin %"], [
            [f"{r.period_start:%Y-%m}", r.revenue, r.attributed_cost, r.margin, r.margin_pct]
            for r in reports.values()])
    return partition_result(context, {key: {
        "dagster/row_count": len(report.tenants),
        **{name: value for name, value in _profitability_metadata(report).items()
           if name in _MONTH_FIGURES and value is not None},
    } for key, report in reports.items()}, metadata, windows_of=monthly_partitions)


class MonthToDateConfig(dg.Config):
    """The month to date as of a day. Empty: today (UTC, by the clock resource)."""

    as_of: str = ""  # YYYY-MM-DD: the days of its month before it count; on the 1st, the whole previous month


@dg.asset(
    deps=[tenant_cost_attribution, DAILY_USAGE_ROLLUPS],
    kinds={"postgres"},
    group_name=GROUP,
    owners=OWNERS,
)
def tenant_profitability_month_to_date(context: dg.AssetExecutionContext, config: MonthToDateConfig,
                                       warehouse: WarehouseResource, clock: ClockResource) -> dg.MaterializeResult:
    """Revenue, attributed cost and margin per tenant for the current month so far (the
    complete days before today, UTC), in `analytics_tenant_profitability` with
    `is_month_to_date`; replaced by `tenant_profitability` once the month is complete."""
    as_of = date.fromisoformat(config.as_of) if config.as_of else clock.now().date()
    period_start = (as_of - timedelta(days=1)).replace(day=1)
    month_end = (period_start + timedelta(days=32)).replace(day=1)
    with warehouse.connect() as conn:
        report = replace_profitability(conn, period_start, as_of, is_month_to_date=as_of < month_end,
                                       run_id=context.run.run_id)
    return dg.MaterializeResult(metadata={"as_of": as_of.isoformat(), **_profitability_metadata(report)})
