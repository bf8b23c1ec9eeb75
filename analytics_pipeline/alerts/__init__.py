"""Alerts. Pure Python, no Dagster.

* The pipeline's own: failed runs and failed or warning asset checks, events recorded as alerts
  that fire once and resolve at the next success (:mod:`.pipeline_events`); the sensors in
  ``analytics_pipeline.defs.alerts`` turn Dagster events into them.
* The platform's: rules as code (:mod:`.rules`, ``default_rules.toml``) evaluated over what the
  warehouse holds (:mod:`.observations`, :mod:`.conditions`), each alert's lifecycle under its
  dedup key (:mod:`.lifecycle`), routed by severity (:mod:`.routing`: PagerDuty, the webhook, the
  history) through an outbox with retries (:mod:`.outbox`, posting with :mod:`.webhook`); :mod:`.evaluation`
  runs one round.

Both kinds share the store, the routing and the outbox: one way to raise and deliver an alert.
"""
