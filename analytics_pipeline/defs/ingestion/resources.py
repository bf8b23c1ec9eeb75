"""``IngestionSettings``: how the quality checks judge a delivery hour."""

from analytics_pipeline.defs.resources import SettingsResource, setting_field


class IngestionSettings(SettingsResource):
    """The quarantine-rate thresholds of the delivery hour's check."""

    quarantine_warn_rate: float = setting_field("quarantine_warn_rate")
    quarantine_fail_rate: float = setting_field("quarantine_fail_rate")
