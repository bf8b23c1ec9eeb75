"""Alerts: messages for failed runs and failed or warning asset checks, and their delivery to a
webhook (``ANALYTICS_ALERT_WEBHOOK_URL``). Pure Python, no Dagster: the sensors in
``analytics_pipeline.defs.alerts`` turn Dagster events into these messages."""
