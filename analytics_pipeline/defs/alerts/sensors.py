"""Alert sensors: failed runs, and asset checks that failed or warned (budgets among them),
recorded in the alert store and sent by its outbox, as the platform rules' alerts are.

Both are plain sensors reading Dagster's event log after a cursor, the storage id of the last
event handled. Each tick records the events it read in **one warehouse transaction**
(:mod:`analytics_pipeline.alerts.pipeline_events`: an alert, its ``fired`` history row and one
outbox row per receiver of its severity), and only then returns its cursor past them; delivery is
the outbox's business (:mod:`analytics_pipeline.alerts.outbox`: retried with backoff, each
delivered once), which each tick then drives, as ``platform_alert_sensor`` does. A tick that dies
after its commit (say, Dagster's 60 s sensor timeout) keeps no cursor, so the next one reads the
same events again: their dedup keys are stored already and nothing is recorded or sent twice.
(Dagster's ``@run_failure_sensor`` moves its own cursor past a run whatever the sensor does.)

Both run by default (``DefaultSensorStatus.RUNNING``) and record whether or not a receiver is
configured: every alert is kept in ``analytics_alert_history``; with no receiver for its severity
it goes nowhere else. Neither replays history when first started: each starts at the latest event
of its kind.
"""

import json
from datetime import UTC, datetime

import dagster as dg

from analytics_pipeline.alerts.messages import numeric_or_short
from analytics_pipeline.alerts.outbox import DispatchReport, deliver_due
from analytics_pipeline.alerts.pipeline_events import (
    ASSET_CHECK,
    RUN_FAILURE,
    RecordReport,
    asset_check_alert,
    check_subject,
    lock_alerts,
    open_run_failures,
    record_alert,
    resolve_subjects,
    run_failure_alert,
)
from analytics_pipeline.alerts.routing import Routes
from analytics_pipeline.defs.alerts.resources import AlertSettings
from analytics_pipeline.defs.resources import ClockResource, WarehouseResource
from analytics_pipeline.defs.shared import PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG, described_sensor

RUN_FAILURE_ALERT_SENSOR = "run_failure_alert_sensor"
ASSET_CHECK_ALERT_SENSOR = "asset_check_alert_sensor"
# Events read per tick; the rest are read on the next tick.
FAILURES_PER_TICK = 100
EVALUATIONS_PER_TICK = 200
# Deliveries one tick sends at most (each POST times out after 10 s; a receiver that fails is not
# tried again in the tick): what is left is sent by the next tick of any alert sensor.
DELIVERIES_PER_TICK = 20
PARTITION_TAGS = (PARTITION_TAG, RANGE_START_TAG, RANGE_END_TAG)


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


def _starting_after(position: int, what: str, earlier: str) -> dg.SensorResult:
    """A first tick: the cursor starts after the latest ``what`` (at storage id ``position``)."""
    return dg.SensorResult(skip_reason=f"starting after {what} {position}; earlier {earlier} are not recorded",
                           cursor=str(position))


def _latest_failure_id(instance: dg.DagsterInstance) -> int:
    records = instance.fetch_run_status_changes(dg.DagsterEventType.RUN_FAILURE, limit=1, ascending=False).records
    return records[0].storage_id if records else 0


def _latest_evaluation_id(instance: dg.DagsterInstance) -> int:
    records = instance.event_log_storage.get_event_records(
        dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION), limit=1, ascending=False)
    return records[0].storage_id if records else 0


def _plain(entry: dg.MetadataValue) -> object:
    """Numbers and texts as themselves; other metadata (markdown, JSON, tables) is left out."""
    if isinstance(entry, dg.IntMetadataValue | dg.FloatMetadataValue | dg.BoolMetadataValue | dg.TextMetadataValue):
        return entry.value
    return None


def _dispatch(conn, alert_settings: AlertSettings, routes: Routes, now: datetime) -> DispatchReport:
    """Send what is due from the outbox (this tick's alerts and any left from before)."""
    return deliver_due(conn, routes, now=now, max_backoff_seconds=alert_settings.rules().retry_max_backoff_seconds,
                       limit=DELIVERIES_PER_TICK)


def _event_time(record) -> datetime:
    return datetime.fromtimestamp(record.event_log_entry.timestamp, UTC)


def _resolve_recovered_runs(conn, instance: dg.DagsterInstance, routes: Routes, now: datetime,
                            report: RecordReport) -> None:
    """Resolve each open failed-run alert whose job has since succeeded for the same partition (any run
    of the job, if it has none)."""
    for subject, details in open_run_failures(conn):
        partition_tags = details.get("partition_tags") or {}
        since = datetime.fromisoformat(details["failed_at"])
        succeeded = instance.get_runs(filters=dg.RunsFilter(
            job_name=details["job"], statuses=[dg.DagsterRunStatus.SUCCESS], tags=partition_tags or None,
            updated_after=since), limit=1)
        if succeeded:
            resolve_subjects(conn, routes, RUN_FAILURE, [subject], now=now, report=report)


def _summary(report: RecordReport, dispatch: DispatchReport, ignored: str = "") -> str:
    return f"{report.describe()}{ignored}; deliveries: {dispatch.describe()}"


@described_sensor(name=RUN_FAILURE_ALERT_SENSOR, default_status=dg.DefaultSensorStatus.RUNNING,
                  minimum_interval_seconds=30)
def run_failure_alert_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource,
                             alert_settings: AlertSettings, clock: ClockResource) -> dg.SensorResult:
    """Records every failed run of this code location as a critical alert (job, run id, error, partition,
    tags, a link to the run) in `analytics_alerts` and its history, and queues it in the alert outbox:
    PagerDuty (or the webhook without a routing key), retried with backoff, delivered once. The alert
    resolves, with one resolve notification, when the job next succeeds for the same partition. The
    cursor (storage id of the last failure read) moves once the failures are recorded; a tick read
    twice records nothing twice. Starts at the latest failure."""
    instance = context.instance
    after = _parse_cursor(context.cursor)
    if after is None:
        return _starting_after(_latest_failure_id(instance), "run failure event", "failures")
    records = instance.fetch_run_status_changes(
        dg.RunStatusChangeRecordsFilter(event_type=dg.DagsterEventType.RUN_FAILURE, after_storage_id=after),
        limit=FAILURES_PER_TICK, ascending=True).records
    run_ids = list({record.event_log_entry.run_id for record in records})
    runs = {run.run_id: run for run in instance.get_runs(filters=dg.RunsFilter(run_ids=run_ids))} if run_ids else {}
    routes, now, report, ignored = alert_settings.routes(), clock.now(), RecordReport(), 0
    with warehouse.connect() as conn:
        with conn.transaction():
            lock_alerts(conn)
            for record in records:
                run = runs.get(record.event_log_entry.run_id)
                failure = record.event_log_entry.dagster_event
                if run is None or failure is None or not _in_this_code_location(context, run):
                    ignored += 1  # a deleted run, or another code location's
                    continue
                tags = dict(run.tags)
                alert = run_failure_alert(ui_url=alert_settings.dagster_ui_url, job_name=run.job_name,
                                          run_id=run.run_id, error=_error_text(instance, run.run_id, failure),
                                          partition=partition_of(tags), tags=tags, failed_at=_event_time(record),
                                          partition_tags={k: tags[k] for k in PARTITION_TAGS if tags.get(k)})
                record_alert(conn, routes, alert, now=now, report=report)
            _resolve_recovered_runs(conn, instance, routes, now, report)
        dispatch = _dispatch(conn, alert_settings, routes, now)
    cursor = records[-1].storage_id if records else after
    note = f"; {ignored} failure(s) of other code locations or deleted runs ignored" if ignored else ""
    if dispatch.retrying:
        context.log.warning(f"{dispatch.retrying} alert delivery(ies) failed; retried with backoff")
    return dg.SensorResult(skip_reason=_summary(report, dispatch, note), cursor=str(cursor))


@described_sensor(name=ASSET_CHECK_ALERT_SENSOR, default_status=dg.DefaultSensorStatus.RUNNING,
                  minimum_interval_seconds=60)
def asset_check_alert_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource,
                             alert_settings: AlertSettings, clock: ClockResource) -> dg.SensorResult:
    """Records each asset check evaluation that failed or warned (budget checks among them) as an alert:
    critical for ERROR checks (PagerDuty), warning for WARN ones (the webhook); check, asset, partition,
    description, numeric metadata and a link to the asset's checks. It resolves, with one resolve
    notification, at the next passing evaluation of the same check and partition. Alerts go through
    `analytics_alerts`, its history and the outbox (retried with backoff, delivered once); the cursor
    (storage id of the last evaluation read) moves once they are recorded, and a tick read twice records
    nothing twice. Starts at the latest evaluation."""
    instance = context.instance
    after = _parse_cursor(context.cursor)
    if after is None:
        return _starting_after(_latest_evaluation_id(instance), "check evaluation", "ones")
    records = instance.event_log_storage.get_event_records(
        dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, after_cursor=after),
        limit=EVALUATIONS_PER_TICK, ascending=True)
    run_tags: dict[str, dict[str, str]] = {}

    def partition_of_evaluation(evaluation, run_id: str) -> str | None:
        if evaluation.partition is not None or not run_id:
            return evaluation.partition
        if run_id not in run_tags:
            run = instance.get_run_by_id(run_id)
            run_tags[run_id] = dict(run.tags) if run is not None else {}
        return partition_of(run_tags[run_id])

    routes, now, report, passing = alert_settings.routes(), clock.now(), RecordReport(), 0
    with warehouse.connect() as conn:
        with conn.transaction():
            lock_alerts(conn)
            for record in records:  # in storage order: a pass resolves the failures recorded before it
                event = record.event_log_entry.dagster_event
                evaluation = event.asset_check_evaluation_data if event is not None else None
                if evaluation is None:
                    continue
                run_id = record.event_log_entry.run_id
                partition = partition_of_evaluation(evaluation, run_id)
                if evaluation.passed:
                    passing += 1
                    resolve_subjects(conn, routes, ASSET_CHECK,
                                     [check_subject(evaluation.asset_key.path, evaluation.check_name, partition)],
                                     now=now, report=report)
                    continue
                record_alert(conn, routes, asset_check_alert(
                    ui_url=alert_settings.dagster_ui_url, asset_path=evaluation.asset_key.path,
                    check_name=evaluation.check_name, is_error=evaluation.severity == dg.AssetCheckSeverity.ERROR,
                    description=evaluation.description, partition=partition, run_id=run_id,
                    evaluation_id=record.storage_id,
                    metadata=numeric_or_short({name: _plain(entry) for name, entry in evaluation.metadata.items()})),
                    now=now, report=report)
        dispatch = _dispatch(conn, alert_settings, routes, now)
    cursor = records[-1].storage_id if records else after
    if dispatch.retrying:
        context.log.warning(f"{dispatch.retrying} alert delivery(ies) failed; retried with backoff")
    return dg.SensorResult(skip_reason=_summary(report, dispatch, f"; {passing} passing evaluation(s)"),
                           cursor=str(cursor))
