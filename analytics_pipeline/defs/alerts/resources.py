"""``AlertSettings``: where alerts go, and where their links point."""

import dagster as dg
from pydantic import Field

from analytics_pipeline.alerts.routing import Routes
from analytics_pipeline.alerts.rules import RuleSet, load_rules
from analytics_pipeline.settings import Settings


class AlertSettings(dg.ConfigurableResource):
    """The alert settings (`ANALYTICS_ALERT_WEBHOOK_URL`, a secret; `ANALYTICS_DAGSTER_UI_URL`)."""

    webhook_url: str | None = Field(
        default=Settings.alert_webhook_url,
        description="Slack-compatible webhook for warning alerts (and critical ones without a PagerDuty "
                    "routing key); empty: those are kept in the alert history only.")
    dagster_ui_url: str = Field(default=Settings.dagster_ui_url, description="Base of the Dagster UI links.")
    rules_file: str | None = Field(
        default=Settings.alert_rules_file,
        description="The platform alert rules (`ANALYTICS_ALERT_RULES_FILE`); empty: the rules shipped in the package.")
    pagerduty_routing_key: str | None = Field(
        default=Settings.pagerduty_routing_key,
        description="PagerDuty Events API v2 routing key for critical alerts (`ANALYTICS_PAGERDUTY_ROUTING_KEY`, "
                    "a secret); empty: critical alerts go to the webhook.")
    pagerduty_events_url: str = Field(
        default=Settings.pagerduty_events_url,
        description="Where PagerDuty events are posted (`ANALYTICS_PAGERDUTY_EVENTS_URL`).")

    def rules(self) -> RuleSet:
        """The platform alert rules."""
        return load_rules(self.rules_file)

    def routes(self) -> Routes:
        """The receivers of platform alerts, by severity."""
        return Routes(pagerduty_routing_key=self.pagerduty_routing_key or None,
                      pagerduty_events_url=self.pagerduty_events_url, webhook_url=self.webhook_url or None)
