"""``MetricsSettings``: plans, budgets, churn, the forecast bound and the sorts' memory."""

from decimal import Decimal

import dagster as dg
from pydantic import Field

from analytics_pipeline.costs.budgets import load_budgets
from analytics_pipeline.metrics.health import HealthPolicy
from analytics_pipeline.metrics.revenue import Plans, load_plans
from analytics_pipeline.settings import Settings


class MetricsSettings(dg.ConfigurableResource):
    """The metrics settings (`ANALYTICS_PLANS_FILE`, `ANALYTICS_BUDGETS_FILE`, `ANALYTICS_CHURN_INACTIVE_DAYS`,
    `ANALYTICS_CHURN_DROP_PERCENT`, `ANALYTICS_FORECAST_MAPE_BOUND_PERCENT`, `ANALYTICS_ROLLUP_WORK_MEM`)."""

    plans_file: str | None = Field(
        default=Settings.plans_file,
        description="Plans per organization (.json or .toml: monthly commitments, discounts) for MRR; empty: "
                    "revenue is the billed usage.")
    budgets_file: str | None = Field(
        default=Settings.budgets_file,
        description="Monthly budgets (.json or .toml); the health score's budget burn where a tenant has one.")
    churn_inactive_days: int = Field(
        default=Settings.churn_inactive_days,
        description="Days without activity after which an organization has churned (and its recency score is 0).")
    churn_drop_percent: float = Field(
        default=Settings.churn_drop_percent,
        description="A week-over-week drop in requests beyond this percentage is a churn signal.")
    forecast_mape_bound_percent: float = Field(
        default=Settings.forecast_mape_bound_percent,
        description="The forecast check fails when the seasonal method's backtest MAPE of requests exceeds this.")
    work_mem: str = Field(default=Settings.rollup_work_mem,
                          description="PostgreSQL work_mem of each metrics transaction.")

    def health_policy(self) -> HealthPolicy:
        return HealthPolicy(churn_inactive_days=self.churn_inactive_days, churn_drop=self.churn_drop_percent / 100)

    def plans(self) -> Plans:
        return load_plans(self.plans_file) if self.plans_file else Plans()

    def budgets(self) -> dict[str, Decimal]:
        """Each tenant's monthly budget (empty without a budgets file)."""
        return dict(load_budgets(self.budgets_file).tenants) if self.budgets_file else {}

    @classmethod
    def from_settings(cls, settings: Settings) -> "MetricsSettings":
        return cls(plans_file=settings.plans_file, budgets_file=settings.budgets_file,
                   churn_inactive_days=settings.churn_inactive_days, churn_drop_percent=settings.churn_drop_percent,
                   forecast_mape_bound_percent=settings.forecast_mape_bound_percent, work_mem=settings.rollup_work_mem)
