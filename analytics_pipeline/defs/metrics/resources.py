"""``MetricsSettings``: plans, budgets (the shared ``BudgetSettings``, nested), churn, the
forecast bound and the sorts' memory."""

from decimal import Decimal

from analytics_pipeline.defs.resources import BudgetSettings, SettingsResource, setting_field
from analytics_pipeline.metrics.health import HealthPolicy
from analytics_pipeline.metrics.revenue import Plans, load_plans


class MetricsSettings(SettingsResource):
    """The metrics settings, and the budgets whose burn the health score weighs."""

    plans_file: str | None = setting_field("plans_file")
    churn_inactive_days: int = setting_field("churn_inactive_days")
    churn_drop_percent: float = setting_field("churn_drop_percent")
    forecast_mape_bound_percent: float = setting_field("forecast_mape_bound_percent")
    work_mem: str = setting_field("rollup_work_mem")
    budget_settings: BudgetSettings

    def health_policy(self) -> HealthPolicy:
        return HealthPolicy(churn_inactive_days=self.churn_inactive_days, churn_drop=self.churn_drop_percent / 100)

    def plans(self) -> Plans:
        return load_plans(self.plans_file) if self.plans_file else Plans()

    def budgets(self) -> dict[str, Decimal]:
        """Each tenant's monthly budget (empty without a budgets file)."""
        return self.budget_settings.budgets()
