"""``platform_alert_sensor``: evaluates the platform alert rules every 30 seconds.

Thin wiring over :func:`analytics_pipeline.alerts.evaluation.evaluate_and_dispatch`, which the
CLI (``analytics-pipeline alerts evaluate``) and the benchmark call the same way. It launches no
runs: each tick reads the trailing window of raw events, the ledger and the system-health
minutes, moves the alerts' lifecycle in PostgreSQL and sends the notifications due from the
outbox (PagerDuty, the webhook). All its state is in the warehouse, so it keeps no cursor.
"""

import dagster as dg

from analytics_pipeline.alerts.evaluation import evaluate_and_dispatch
from analytics_pipeline.defs.alerts.resources import AlertSettings
from analytics_pipeline.defs.resources import ClockResource, WarehouseResource

PLATFORM_ALERT_SENSOR = "platform_alert_sensor"
#: How often the rules are evaluated: with the rules' hold time, what bounds an alert's latency.
EVALUATION_INTERVAL_SECONDS = 30


@dg.sensor(
    name=PLATFORM_ALERT_SENSOR,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=EVALUATION_INTERVAL_SECONDS,
    description="Evaluates the platform alert rules (ANALYTICS_ALERT_RULES_FILE, or the shipped rules) over the "
                "trailing window of raw events, the ingestion ledger, stuck exports and the system-health minutes; "
                "keeps each alert's lifecycle (pending, firing, acknowledged, resolved) in analytics_alerts under "
                "its dedup key and sends what is due from the outbox: critical to PagerDuty, warning to the "
                "webhook, every alert to analytics_alert_history. Launches no runs.",
)
def platform_alert_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource,
                          alert_settings: AlertSettings, clock: ClockResource) -> dg.SkipReason:
    """Evaluates the platform alert rules and dispatches their notifications."""
    rules = alert_settings.rules()
    with warehouse.connect() as conn:
        outcome = evaluate_and_dispatch(conn, rules, alert_settings.routes(), now=clock.now())
    if outcome.dispatch.retrying:
        context.log.warning(f"{outcome.dispatch.retrying} alert delivery(ies) failed; retried with backoff")
    return dg.SkipReason(outcome.describe())
