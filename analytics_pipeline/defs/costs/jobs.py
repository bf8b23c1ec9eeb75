"""The cost jobs: attribution over days, profitability of complete months and of the month so far."""

import dagster as dg

from analytics_pipeline.defs.costs.assets import (
    daily_infra_costs,
    tenant_cost_attribution,
    tenant_profitability,
    tenant_profitability_month_to_date,
)

cost_attribution_job = dg.define_asset_job(
    "cost_attribution_job", selection=[daily_infra_costs, tenant_cost_attribution],
    description="Load the infrastructure costs of a range of days and attribute them to tenants (with checks).")
monthly_profitability_job = dg.define_asset_job(
    "monthly_profitability_job", selection=[tenant_profitability],
    description="Per-tenant revenue, attributed cost and margin of complete months.")
month_to_date_profitability_job = dg.define_asset_job(
    "month_to_date_profitability_job", selection=[tenant_profitability_month_to_date],
    description="Per-tenant revenue, attributed cost and margin of the current month so far.")
