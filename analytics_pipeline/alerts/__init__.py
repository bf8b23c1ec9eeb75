"""Alerts. Pure Python, no Dagster.

* The pipeline's own: messages for failed runs and failed or warning asset checks
  (:mod:`.messages`) and their delivery to a webhook (:mod:`.webhook`,
  ``ANALYTICS_ALERT_WEBHOOK_URL``); the sensors in ``analytics_pipeline.defs.alerts`` turn Dagster
  events into these messages.
* The platform's: rules as code (:mod:`.rules`, ``default_rules.toml``) evaluated over what the
  warehouse holds (:mod:`.observations`, :mod:`.conditions`), each alert's lifecycle under its
  dedup key (:mod:`.lifecycle`), routed by severity (:mod:`.routing`: PagerDuty, the webhook, the
  history) through an outbox with retries (:mod:`.outbox`); :mod:`.evaluation` runs one round.
"""
