"""``AlertSettings``: where alerts go, and where their links point."""

from analytics_pipeline.alerts.routing import Routes
from analytics_pipeline.alerts.rules import RuleSet, load_rules
from analytics_pipeline.defs.resources import SettingsResource, setting_field


class AlertSettings(SettingsResource):
    """The alert settings: the receivers (the webhook and the PagerDuty key are secrets), the rules
    and the Dagster UI the alerts link to."""

    webhook_url: str | None = setting_field("alert_webhook_url")
    dagster_ui_url: str = setting_field("dagster_ui_url")
    rules_file: str | None = setting_field("alert_rules_file")
    pagerduty_routing_key: str | None = setting_field("pagerduty_routing_key")
    pagerduty_events_url: str = setting_field("pagerduty_events_url")

    def rules(self) -> RuleSet:
        """The platform alert rules."""
        return load_rules(self.rules_file)

    def routes(self) -> Routes:
        """The receivers of platform alerts, by severity."""
        return Routes(pagerduty_routing_key=self.pagerduty_routing_key or None,
                      pagerduty_events_url=self.pagerduty_events_url, webhook_url=self.webhook_url or None)
