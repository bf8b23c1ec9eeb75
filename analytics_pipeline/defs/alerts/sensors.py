"""Alert sensors: failed runs, and asset checks that failed or warned, posted to a webhook.

Both are plain sensors reading Dagster's event log after a cursor, the storage id of the last
event handled. The cursor only moves past an event once its alert was delivered, rejected by the
receiver (a 4xx: logged, not retried), or needs no alert; an alert still undelivered after its
retries stops the tick and is tried again on the next one, so an outage loses nothing and a
delivered alert is not posted again. (Dagster's ``@run_failure_sensor`` moves its own cursor past
a run whatever the sensor returns, so it cannot retry.) A tick starts no new POST after
``TICK_BUDGET_SECONDS``, which keeps it under Dagster's 60 s sensor timeout: a timed-out tick
keeps no cursor and would post again what it had delivered.

Both run by default (``DefaultSensorStatus.RUNNING``): that is safe because each skips with a
reason, posting nothing and moving its cursor forward, while ``ANALYTICS_ALERT_WEBHOOK_URL`` is
unset. Neither replays history when first started: each starts at the latest event of its kind.
The ticks themselves never fail because of the webhook.
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg

from analytics_pipeline.alerts.messages import Alert, asset_check_alert, numeric_or_short, run_failure_alert
from analytics_pipeline.alerts.webhook import post_json
from analytics_pipeline.defs.alerts.resources import AlertSettings
from analytics_pipeline.defs.shared import PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG

RUN_FAILURE_ALERT_SENSOR = "run_failure_alert_sensor"
ASSET_CHECK_ALERT_SENSOR = "asset_check_alert_sensor"
WEBHOOK_UNSET = "ANALYTICS_ALERT_WEBHOOK_URL is unset: alerts are off"
# Events read per tick, and the time after which a tick starts no new POST: with one POST taking at
# most 31.5 s (below), a tick stays under Dagster's 60 s sensor timeout. What is left is posted on
# the next tick.
FAILURES_PER_TICK = 100
EVALUATIONS_PER_TICK = 200
TICK_BUDGET_SECONDS = 20.0
# Each POST: up to 3 attempts, 10 s timeout each, 0.5 s then 1 s apart.
WEBHOOK_ATTEMPTS = 3
WEBHOOK_BACKOFF_SECONDS = 0.5
WEBHOOK_TIMEOUT_SECONDS = 10.0
# What became of one alert (see _deliver).
POSTED, REJECTED, RETRY = "posted", "rejected", "retry"


def _deliver(context: dg.SensorEvaluationContext, url: str, alert: Alert, what: str) -> str:
    """Posts one alert: ``POSTED``; ``REJECTED`` (a 4xx: logged, skipped); or ``RETRY`` (still undelivered
    after its attempts: logged, to be tried again on the next tick)."""
    delivery = post_json(url, alert.payload(), attempts=WEBHOOK_ATTEMPTS, backoff_seconds=WEBHOOK_BACKOFF_SECONDS,
                         timeout_seconds=WEBHOOK_TIMEOUT_SECONDS)
    if delivery.delivered:
        context.log.info(f"alert for {what} posted")
        return POSTED
    if not delivery.retryable:
        context.log.error(f"alert for {what} rejected by the webhook, skipped: {delivery.error}")
        return REJECTED
    context.log.error(f"alert for {what} NOT delivered after {delivery.attempts} attempt(s): {delivery.error}; "
                      "retrying on the next tick")
    return RETRY


@dataclass
class _Posting:
    """What one tick did with its records: the cursor to keep, and the counts for its summary."""

    cursor: int
    posted: int = 0
    skipped: int = 0  # records that need no alert
    rejected: int = 0
    pending: int = 0  # left for the next tick (budget spent, or a delivery to retry)


def _post_in_order(context: dg.SensorEvaluationContext, url: str, records: list, after: int,
                   needs_alert: Callable[[object], bool],
                   build_alert: Callable[[object], tuple[Alert, str]]) -> _Posting:
    """Posts the alerts of ``records`` in storage order within the tick budget. The cursor passes a
    record once its alert was posted or rejected (4xx), or when it needs none; it stops at the first
    delivery to retry, so nothing behind it is lost or posted out of order."""
    deadline = time.monotonic() + TICK_BUDGET_SECONDS
    posting = _Posting(cursor=after)
    for index, record in enumerate(records):
        if not needs_alert(record):
            posting.skipped += 1
            posting.cursor = record.storage_id
            continue
        if time.monotonic() > deadline:
            posting.pending = len(records) - index
            break
        outcome = _deliver(context, url, *build_alert(record))
        if outcome == RETRY:
            posting.pending = len(records) - index
            break
        posting.posted += outcome == POSTED
        posting.rejected += outcome == REJECTED
        posting.cursor = record.storage_id
    return posting


def _parse_cursor(cursor: str | None) -> int | None:
    """The storage id in the cursor, or None (first tick). Also reads the ``record_id`` of the JSON cursor
    Dagster's run-status sensors keep, so the run failure sensor goes on where its ``@run_failure_sensor``
    form stopped."""
    if not cursor:
        return None
    try:
        return int(cursor)
    except ValueError:
        pass
    try:
        record_id = json.loads(cursor).get("record_id")
    except (ValueError, AttributeError):
        return None
    return record_id if isinstance(record_id, int) else None


def partition_of(tags: dict[str, str]) -> str | None:
    """The run's partition, or its single-run range as ``first…last``."""
    if tags.get(PARTITION_TAG):
        return tags[PARTITION_TAG]
    first, last = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    if first and last:
        return first if first == last else f"{first}…{last}"
    return None


def _error_text(instance: dg.DagsterInstance, run_id: str, failure: dg.DagsterEvent) -> str:
    """The run failure message, then each failed step's own error (the user's exception)."""
    steps = []
    for record in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_FAILURE, limit=5).records:
        event = record.event_log_entry.dagster_event
        error = event.step_failure_data.error if event is not None else None
        if error is not None:
            steps.append(f"{event.step_key}: {(error.cause or error).message.strip()}")
    run_error = failure.job_failure_data.error
    if not steps and run_error is not None:  # failed outside any step (e.g. launch, resources)
        steps.append((run_error.cause or run_error).message.strip())
    return "\n".join(line for line in [failure.message or "", *steps] if line)


def _in_this_code_location(context: dg.SensorEvaluationContext, run: dg.DagsterRun) -> bool:
    """Whether the run's job comes from the sensor's own code location and repository, as Dagster's
    run failure sensor decides it (both are unset for runs executed in process, e.g. in tests)."""
    origin = run.remote_job_origin
    run_location = origin.repository_origin.code_location_origin.location_name if origin else None
    run_repository = origin.repository_origin.repository_name if origin else None
    sensor_location = context.code_location_origin.location_name if context.code_location_origin else None
    return (run_location, run_repository) == (sensor_location, context.repository_name)


def _latest_failure_id(instance: dg.DagsterInstance) -> int:
    records = instance.fetch_run_status_changes(dg.DagsterEventType.RUN_FAILURE, limit=1, ascending=False).records
    return records[0].storage_id if records else 0


@dg.sensor(
    name=RUN_FAILURE_ALERT_SENSOR,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Posts every failed run of this code location to `ANALYTICS_ALERT_WEBHOOK_URL` (Slack-compatible "
                "JSON): job, run id, error, partition and tags, and a link to the run in the Dagster UI. The cursor "
                "is the storage id of the last run failure handled, so each is posted once; a delivery that fails "
                "after its retries is tried again on the next tick (one the receiver rejects with a 4xx is logged "
                "and skipped). Starts at the latest failure; skips, moving past failures, while the URL is unset.",
)
def run_failure_alert_sensor(context: dg.SensorEvaluationContext, alert_settings: AlertSettings) -> dg.SensorResult:
    """Posts failed runs of this code location to the alert webhook (job, run id, error, partition, tags,
    link), each once."""
    instance = context.instance
    after = _parse_cursor(context.cursor)
    if after is None:
        start = _latest_failure_id(instance)
        return dg.SensorResult(skip_reason=f"starting after run failure event {start}; earlier failures are not "
                                           "posted", cursor=str(start))
    if not alert_settings.webhook_url:
        return dg.SensorResult(skip_reason=WEBHOOK_UNSET, cursor=str(max(after, _latest_failure_id(instance))))

    records = instance.fetch_run_status_changes(
        dg.RunStatusChangeRecordsFilter(event_type=dg.DagsterEventType.RUN_FAILURE, after_storage_id=after),
        limit=FAILURES_PER_TICK, ascending=True).records
    run_ids = list({record.event_log_entry.run_id for record in records})
    runs = {run.run_id: run for run in instance.get_runs(filters=dg.RunsFilter(run_ids=run_ids))} if run_ids else {}

    def needs_alert(record) -> bool:  # not a deleted run, nor another code location's
        run = runs.get(record.event_log_entry.run_id)
        return run is not None and record.event_log_entry.dagster_event is not None and _in_this_code_location(
            context, run)

    def build_alert(record) -> tuple[Alert, str]:
        run = runs[record.event_log_entry.run_id]
        tags = dict(run.tags)
        alert = run_failure_alert(ui_url=alert_settings.dagster_ui_url, job_name=run.job_name, run_id=run.run_id,
                                  error=_error_text(instance, run.run_id, record.event_log_entry.dagster_event),
                                  partition=partition_of(tags), tags=tags)
        return alert, f"failed run {run.run_id} of {run.job_name}"

    posting = _post_in_order(context, alert_settings.webhook_url, records, after, needs_alert, build_alert)
    summary = f"posted {posting.posted} alert(s)"
    if posting.skipped:
        summary += f"; {posting.skipped} failure(s) of other code locations or deleted runs ignored"
    if posting.rejected:
        summary += f"; {posting.rejected} rejected by the webhook"
    if posting.pending:
        summary += f"; {posting.pending} failed run(s) left for the next tick"
    return dg.SensorResult(skip_reason=summary, cursor=str(posting.cursor))


def _latest_evaluation_id(instance: dg.DagsterInstance) -> int:
    records = instance.event_log_storage.get_event_records(
        dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION), limit=1, ascending=False)
    return records[0].storage_id if records else 0


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
def asset_check_alert_sensor(context: dg.SensorEvaluationContext, alert_settings: AlertSettings) -> dg.SensorResult:
    """Posts failed and warning asset check evaluations to the alert webhook, each once."""
    instance = context.instance
    after = _parse_cursor(context.cursor)
    if after is None:
        start = _latest_evaluation_id(instance)
        return dg.SensorResult(skip_reason=f"starting after check evaluation {start}; earlier ones are not posted",
                               cursor=str(start))
    if not alert_settings.webhook_url:
        return dg.SensorResult(skip_reason=WEBHOOK_UNSET, cursor=str(max(after, _latest_evaluation_id(instance))))

    records = instance.event_log_storage.get_event_records(
        dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, after_cursor=after),
        limit=EVALUATIONS_PER_TICK, ascending=True)
    run_tags: dict[str, dict[str, str]] = {}

    def evaluation_of(record):
        event = record.event_log_entry.dagster_event
        return event.asset_check_evaluation_data if event is not None else None

    def needs_alert(record) -> bool:  # failed or warned
        evaluation = evaluation_of(record)
        return evaluation is not None and not evaluation.passed

    def build_alert(record) -> tuple[Alert, str]:
        evaluation = evaluation_of(record)
        run_id = record.event_log_entry.run_id
        partition = evaluation.partition
        if partition is None and run_id:
            if run_id not in run_tags:
                run = instance.get_run_by_id(run_id)
                run_tags[run_id] = dict(run.tags) if run is not None else {}
            partition = partition_of(run_tags[run_id])
        severity = "error" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "warning"
        alert = asset_check_alert(
            ui_url=alert_settings.dagster_ui_url, asset_path=evaluation.asset_key.path,
            check_name=evaluation.check_name, severity=severity, description=evaluation.description,
            partition=partition, run_id=run_id,
            metadata=numeric_or_short({name: _plain(entry) for name, entry in evaluation.metadata.items()}))
        return alert, f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()} (run {run_id})"

    posting = _post_in_order(context, alert_settings.webhook_url, records, after, needs_alert, build_alert)
    summary = f"posted {posting.posted} alert(s); {posting.skipped} passing evaluation(s) ignored"
    if posting.rejected:
        summary += f"; {posting.rejected} rejected by the webhook"
    if posting.pending:
        summary += f"; {posting.pending} evaluation(s) left for the next tick"
    return dg.SensorResult(skip_reason=summary, cursor=str(posting.cursor))


def _plain(entry: dg.MetadataValue) -> object:
    """Numbers and texts as themselves; other metadata (markdown, JSON, tables) is left out."""
    if isinstance(entry, dg.IntMetadataValue | dg.FloatMetadataValue | dg.BoolMetadataValue | dg.TextMetadataValue):
        return entry.value
    return None
