"""``IngestionSettings``: how the quality checks judge a delivery hour."""

import dagster as dg
from pydantic import Field

from analytics_pipeline.settings import Settings


class IngestionSettings(dg.ConfigurableResource):
    """The quarantine-rate thresholds (`ANALYTICS_QUARANTINE_WARN_RATE` / `_FAIL_RATE`)."""

    quarantine_warn_rate: float = Field(
        default=Settings.quarantine_warn_rate,
        description="Quarantined share of a delivery hour's lines above which its check warns.")
    quarantine_fail_rate: float = Field(
        default=Settings.quarantine_fail_rate,
        description="Quarantined share of a delivery hour's lines above which its check fails.")

    @classmethod
    def from_settings(cls, settings: Settings) -> "IngestionSettings":
        return cls(quarantine_warn_rate=settings.quarantine_warn_rate,
                   quarantine_fail_rate=settings.quarantine_fail_rate)
