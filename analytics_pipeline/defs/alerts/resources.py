"""``AlertSettings``: where alerts go, and where their links point."""

import dagster as dg
from pydantic import Field

from analytics_pipeline.settings import Settings


class AlertSettings(dg.ConfigurableResource):
    """The alert settings (`ANALYTICS_ALERT_WEBHOOK_URL`, a secret; `ANALYTICS_DAGSTER_UI_URL`)."""

    webhook_url: str | None = Field(
        default=Settings.alert_webhook_url,
        description="Failed runs and failed/warning checks are posted here; empty: alerts are off.")
    dagster_ui_url: str = Field(default=Settings.dagster_ui_url, description="Base of the Dagster UI links.")
