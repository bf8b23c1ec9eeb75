"""Alerting: the sensors that record failed runs and failed or warning asset checks, and the platform
alert rules' sensor, all into one alert store and outbox (critical to PagerDuty, warning to the
webhook, every alert to the history)."""

import dagster as dg

from analytics_pipeline.defs.alerts.platform import platform_alert_sensor
from analytics_pipeline.defs.alerts.sensors import asset_check_alert_sensor, run_failure_alert_sensor

defs = dg.Definitions(sensors=[run_failure_alert_sensor, asset_check_alert_sensor, platform_alert_sensor])
