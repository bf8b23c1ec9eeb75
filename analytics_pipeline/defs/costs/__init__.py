"""Costs: daily infrastructure costs, their attribution to tenants, profitability and budgets."""

import dagster as dg

from analytics_pipeline.defs.costs.assets import (
    daily_infra_costs,
    tenant_cost_attribution,
    tenant_profitability,
    tenant_profitability_month_to_date,
)
from analytics_pipeline.defs.costs.checks import attributed_cost_equals_infra_cost, tenant_budgets
from analytics_pipeline.defs.costs.jobs import (
    cost_attribution_job,
    month_to_date_profitability_job,
    monthly_profitability_job,
)
from analytics_pipeline.defs.costs.schedules import (
    daily_cost_refresh_schedule,
    month_to_date_profitability_schedule,
    monthly_profitability_schedule,
)
from analytics_pipeline.defs.costs.sensors import focus_export_sensor

defs = dg.Definitions(
    assets=[daily_infra_costs, tenant_cost_attribution, tenant_profitability, tenant_profitability_month_to_date],
    asset_checks=[attributed_cost_equals_infra_cost, tenant_budgets],
    jobs=[cost_attribution_job, monthly_profitability_job, month_to_date_profitability_job],
    schedules=[daily_cost_refresh_schedule, month_to_date_profitability_schedule, monthly_profitability_schedule],
    sensors=[focus_export_sensor],
)
