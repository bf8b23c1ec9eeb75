"""Alert sensors: failed runs, and asset checks that failed or warned, posted to a webhook.

Both run by default (``DefaultSensorStatus.RUNNING``): that is safe because each skips with a
reason, posting nothing, while ``ANALYTICS_ALERT_WEBHOOK_URL`` is unset. Neither replays history
when first started: the run failure sensor starts at the latest failure (Dagster's own cursor),
the check sensor at the latest check evaluation. A delivery that fails after its retries is
logged as an error on the tick; the ticks themselves never fail because of the webhook.
"""

import time

import dagster as dg

from analytics_pipeline.alerts.messages import asset_check_alert, numeric_or_short, run_failure_alert
from analytics_pipeline.alerts.webhook import post_json
from analytics_pipeline.settings import load_settings

RUN_FAILURE_ALERT_SENSOR = "run_failure_alert_sensor"
ASSET_CHECK_ALERT_SENSOR = "asset_check_alert_sensor"
WEBHOOK_UNSET = "ANALYTICS_ALERT_WEBHOOK_URL is unset: alerts are off"
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
# Check evaluations read per tick, and the time after which a tick starts no new POST: with one
# POST taking at most 31.5 s (below), a tick stays under Dagster's 60 s sensor timeout. What is
# left is posted on the next tick.
EVALUATIONS_PER_TICK = 200
TICK_BUDGET_SECONDS = 20.0
# Each POST: up to 3 attempts, 10 s timeout each, 0.5 s then 1 s apart.
WEBHOOK_ATTEMPTS = 3
WEBHOOK_BACKOFF_SECONDS = 0.5
WEBHOOK_TIMEOUT_SECONDS = 10.0


def _post(url: str, payload: dict):
    return post_json(url, payload, attempts=WEBHOOK_ATTEMPTS, backoff_seconds=WEBHOOK_BACKOFF_SECONDS,
                     timeout_seconds=WEBHOOK_TIMEOUT_SECONDS)


def partition_of(tags: dict[str, str]) -> str | None:
    """The run's partition, or its single-run range as ``first…last``."""
    if tags.get(PARTITION_TAG):
        return tags[PARTITION_TAG]
    first, last = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    if first and last:
        return first if first == last else f"{first}…{last}"
    return None


def _error_text(context: dg.RunFailureSensorContext) -> str:
    """The run failure message, then each failed step's own error (the user's exception)."""
    steps = []
    for event in context.get_step_failure_events()[:5]:
        error = event.step_failure_data.error
        if error is not None:
            steps.append(f"{event.step_key}: {(error.cause or error).message.strip()}")
    run_error = context.failure_event.job_failure_data.error
    if not steps and run_error is not None:  # failed outside any step (e.g. launch, resources)
        steps.append((run_error.cause or run_error).message.strip())
    return "\n".join(line for line in [context.failure_event.message or "", *steps] if line)


@dg.run_failure_sensor(
    name=RUN_FAILURE_ALERT_SENSOR,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Posts every failed run of this code location to `ANALYTICS_ALERT_WEBHOOK_URL` (Slack-compatible "
                "JSON): job, run id, error, partition and tags, and a link to the run in the Dagster UI. Skips "
                "while the URL is unset.",
)
def run_failure_alert_sensor(context: dg.RunFailureSensorContext):
    """Posts a failed run to the alert webhook (job, run id, error, partition, tags, link)."""
    settings = load_settings()
    run = context.dagster_run
    if not settings.alert_webhook_url:
        return dg.SkipReason(WEBHOOK_UNSET)
    alert = run_failure_alert(ui_url=settings.dagster_ui_url, job_name=run.job_name, run_id=run.run_id,
                              error=_error_text(context), partition=partition_of(dict(run.tags)),
                              tags=dict(run.tags))
    delivery = _post(settings.alert_webhook_url, alert.payload())
    if delivery.delivered:
        context.log.info(f"alert for failed run {run.run_id} of {run.job_name} posted")
        return None  # None: Dagster goes on with the next failed run in the same tick
    message = (f"alert for failed run {run.run_id} of {run.job_name} NOT delivered after {delivery.attempts} "
               f"attempt(s): {delivery.error}")
    context.log.error(message)
    return dg.SkipReason(message)


def _latest_evaluation_id(instance: dg.DagsterInstance) -> int:
    records = instance.event_log_storage.get_event_records(
        dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION), limit=1, ascending=False)
    return records[0].storage_id if records else 0


def _parse_cursor(cursor: str | None) -> int | None:
    try:
        return int(cursor) if cursor else None
    except ValueError:
        return None


@dg.sensor(
    name=ASSET_CHECK_ALERT_SENSOR,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Posts each asset check evaluation that failed (ERROR) or warned (WARN, not passed) to "
                "`ANALYTICS_ALERT_WEBHOOK_URL`: check, asset, partition, description, numeric metadata and a link to "
                "the asset's checks page. The cursor is the storage id of the last evaluation handled, so each is "
                "posted once; a delivery that fails after its retries is tried again on the next tick (one the "
                "receiver rejects with a 4xx is logged and skipped). Starts at the latest evaluation; skips, moving "
                "past evaluations, while the URL is unset.",
)
def asset_check_alert_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """Posts failed and warning asset check evaluations to the alert webhook, each once."""
    settings = load_settings()
    instance = context.instance
    after = _parse_cursor(context.cursor)
    if after is None:
        start = _latest_evaluation_id(instance)
        return dg.SensorResult(skip_reason=f"starting after check evaluation {start}; earlier ones are not posted",
                               cursor=str(start))
    if not settings.alert_webhook_url:
        return dg.SensorResult(skip_reason=WEBHOOK_UNSET, cursor=str(max(after, _latest_evaluation_id(instance))))

    records = instance.event_log_storage.get_event_records(
        dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, after_cursor=after),
        limit=EVALUATIONS_PER_TICK, ascending=True)
    deadline = time.monotonic() + TICK_BUDGET_SECONDS
    cursor, posted, passed, rejected, pending = after, 0, 0, 0, 0
    run_tags: dict[str, dict[str, str]] = {}
    for index, record in enumerate(records):
        event = record.event_log_entry.dagster_event
        evaluation = event.asset_check_evaluation_data if event is not None else None
        if evaluation is None or evaluation.passed:
            passed += 1
            cursor = record.storage_id
            continue
        if time.monotonic() > deadline:
            pending = len(records) - index
            break
        run_id = record.event_log_entry.run_id
        partition = evaluation.partition
        if partition is None and run_id:
            if run_id not in run_tags:
                run = instance.get_run_by_id(run_id)
                run_tags[run_id] = dict(run.tags) if run is not None else {}
            partition = partition_of(run_tags[run_id])
        severity = "error" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "warning"
        alert = asset_check_alert(
            ui_url=settings.dagster_ui_url, asset_path=evaluation.asset_key.path, check_name=evaluation.check_name,
            severity=severity, description=evaluation.description, partition=partition, run_id=run_id,
            metadata=numeric_or_short({name: _plain(entry) for name, entry in evaluation.metadata.items()}))
        delivery = _post(settings.alert_webhook_url, alert.payload())
        what = f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()} (run {run_id})"
        if delivery.delivered:
            posted += 1
        elif not delivery.retryable:
            rejected += 1
            context.log.error(f"alert for {what} rejected by the webhook, skipped: {delivery.error}")
        else:
            pending = len(records) - index
            context.log.error(f"alert for {what} NOT delivered after {delivery.attempts} attempt(s): "
                              f"{delivery.error}; retrying on the next tick")
            break
        cursor = record.storage_id
    summary = f"posted {posted} alert(s); {passed} passing evaluation(s) ignored"
    if rejected:
        summary += f"; {rejected} rejected by the webhook"
    if pending:
        summary += f"; {pending} evaluation(s) left for the next tick"
    return dg.SensorResult(skip_reason=summary, cursor=str(cursor))


def _plain(entry: dg.MetadataValue) -> object:
    """Numbers and texts as themselves; other metadata (markdown, JSON, tables) is left out."""
    if isinstance(entry, dg.IntMetadataValue | dg.FloatMetadataValue | dg.BoolMetadataValue | dg.TextMetadataValue):
        return entry.value
    return None
