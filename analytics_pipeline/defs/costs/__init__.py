"""Per-tenant cost attribution, profitability and budgets (issue 6): the Dagster wiring.

``analytics_pipeline/definitions.py`` adds these lists; ``default_resources()`` provides the
``cost_explorer`` resource.
"""

from analytics_pipeline.defs.costs.assets import (
    daily_infra_costs,
    tenant_cost_attribution,
    tenant_profitability,
    tenant_profitability_month_to_date,
)
from analytics_pipeline.defs.costs.checks import attributed_cost_equals_infra_cost, tenant_budgets
from analytics_pipeline.defs.costs.schedules import (
    cost_attribution_job,
    daily_cost_refresh_schedule,
    month_to_date_profitability_job,
    month_to_date_profitability_schedule,
    monthly_profitability_job,
    monthly_profitability_schedule,
)
from analytics_pipeline.defs.costs.sensors import focus_export_sensor

COST_ASSETS = [daily_infra_costs, tenant_cost_attribution, tenant_profitability, tenant_profitability_month_to_date]
COST_CHECKS = [attributed_cost_equals_infra_cost, tenant_budgets]
COST_JOBS = [cost_attribution_job, monthly_profitability_job, month_to_date_profitability_job]
COST_SCHEDULES = [daily_cost_refresh_schedule, month_to_date_profitability_schedule, monthly_profitability_schedule]
COST_SENSORS = [focus_export_sensor]
