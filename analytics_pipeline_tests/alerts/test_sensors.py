"""The alert sensors against a real (PostgreSQL) Dagster instance and a real HTTP webhook: failed
runs and check evaluations are produced by executing small jobs and assets."""

import socket

import dagster as dg
import pytest

from analytics_pipeline.defs.alerts import sensors
from analytics_pipeline.defs.alerts.resources import AlertSettings
from analytics_pipeline.defs.alerts.sensors import (
    ASSET_CHECK_ALERT_SENSOR,
    RUN_FAILURE_ALERT_SENSOR,
    WEBHOOK_UNSET,
    asset_check_alert_sensor,
    run_failure_alert_sensor,
)
from analytics_pipeline.settings import load_settings

UI = "http://dagster.example:3000"
#: The settings the sensors' ticks are given (a test changes them between ticks).
ALERT_ENV: dict[str, str] = {}


def alert_resources() -> dict:
    settings = load_settings(ALERT_ENV)
    return {"alert_settings": AlertSettings(webhook_url=settings.alert_webhook_url,
                                            dagster_ui_url=settings.dagster_ui_url)}


@pytest.fixture
def alerts_to(webhook, monkeypatch):
    monkeypatch.setitem(ALERT_ENV, "ANALYTICS_ALERT_WEBHOOK_URL", webhook.url)
    monkeypatch.setitem(ALERT_ENV, "ANALYTICS_DAGSTER_UI_URL", UI + "/")
    monkeypatch.setattr(sensors, "WEBHOOK_BACKOFF_SECONDS", 0.01)  # the retries themselves stay real
    return webhook


@dg.op
def load_partition():
    raise ValueError("boom: relation analytics_events does not exist")


@dg.job
def failing_job():
    load_partition()


def fail_a_run(instance, **tags):
    result = failing_job.execute_in_process(instance=instance, raise_on_error=False, tags=tags)
    assert not result.success
    return result


daily = dg.DailyPartitionsDefinition(start_date="2026-01-01")


@dg.asset(key_prefix=["usage"], partitions_def=daily)
def thing() -> None:
    """A stand-in asset."""


@dg.asset_check(asset=thing, partitions_def=daily)
def thing_is_broken() -> dg.AssetCheckResult:
    """Fails (ERROR)."""
    return dg.AssetCheckResult(passed=False, description="3 rows differ from the raw events",
                               metadata={"mismatched_rows": 3, "details": dg.MetadataValue.md("| a |\n|---|")})


@dg.asset_check(asset=thing, partitions_def=daily)
def thing_is_odd() -> dg.AssetCheckResult:
    """Warns."""
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN, description="0.4% quarantined",
                               metadata={"quarantine_rate": 0.004})


@dg.asset_check(asset=thing, partitions_def=daily)
def thing_is_fine() -> dg.AssetCheckResult:
    """Passes."""
    return dg.AssetCheckResult(passed=True, metadata={"rows": 10})


def evaluate_checks(instance, partition_key="2026-06-01"):
    result = dg.materialize([thing, thing_is_broken, thing_is_odd, thing_is_fine], instance=instance,
                            partition_key=partition_key)
    assert len(result.get_asset_check_evaluations()) == 3
    return result


def run_tick(instance, cursor=None):
    return run_failure_alert_sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor,
                                                                             resources=alert_resources()))


def unreachable_url() -> str:
    with socket.socket() as sock:  # a free port nobody listens on: connection refused
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/hooks/down"


def check_tick(instance, cursor=None):
    return asset_check_alert_sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor,
                                                                             resources=alert_resources()))


# --- failed runs ----------------------------------------------------------------------------


def test_a_failed_run_is_posted_with_its_error_partition_and_link(alerts_to, dagster_instance):
    fail_a_run(dagster_instance)  # before the sensor started: not replayed
    start = run_tick(dagster_instance)
    assert start.skip_message.startswith("starting after run failure event") and alerts_to.posts == []

    result = fail_a_run(dagster_instance, **{"dagster/partition": "2026-06-01", "team": "data"})
    tick = run_tick(dagster_instance, start.cursor)
    assert tick.skip_message == "posted 1 alert(s)" and int(tick.cursor) > int(start.cursor)
    [post] = alerts_to.posts
    run_id = result.run_id
    assert post["text"].startswith(":red_circle: *Run of failing_job failed (partition 2026-06-01)*")
    assert post["text"].endswith(f"<{UI}/runs/{run_id}|Open in Dagster>")
    assert post["alert"]["summary"] == (
        "Execution of run for \"failing_job\" failed. Steps failed: ['load_partition'].\n"
        "load_partition: ValueError: boom: relation analytics_events does not exist")
    assert post["alert"]["fields"].items() >= {"job": "failing_job", "run_id": run_id, "partition": "2026-06-01",
                                               "tag team": "data"}.items()
    assert post["alert"]["link"] == f"{UI}/runs/{run_id}"

    again = run_tick(dagster_instance, tick.cursor)
    assert again.cursor == tick.cursor and again.skip_message == "posted 0 alert(s)" and len(alerts_to.posts) == 1


def test_a_webhook_outage_loses_no_failed_run_and_posts_each_once(alerts_to, dagster_instance, monkeypatch):
    start = run_tick(dagster_instance)
    failed = [fail_a_run(dagster_instance).run_id for _ in range(2)]

    monkeypatch.setitem(ALERT_ENV, "ANALYTICS_ALERT_WEBHOOK_URL", unreachable_url())  # the receiver is down
    down = run_tick(dagster_instance, start.cursor)
    assert down.skip_message == "posted 0 alert(s); 2 failed run(s) left for the next tick"
    assert down.cursor == start.cursor  # nothing moved past

    monkeypatch.setitem(ALERT_ENV, "ANALYTICS_ALERT_WEBHOOK_URL", alerts_to.url)
    alerts_to.statuses = [500] * 3  # up again, but failing: the first alert's three attempts
    failing = run_tick(dagster_instance, down.cursor)
    assert failing.cursor == start.cursor and len(alerts_to.posts) == 3

    up = run_tick(dagster_instance, failing.cursor)
    assert up.skip_message == "posted 2 alert(s)"
    assert [p["alert"]["fields"]["run_id"] for p in alerts_to.posts[3:]] == failed  # in order, each once
    assert run_tick(dagster_instance, up.cursor).cursor == up.cursor and len(alerts_to.posts) == 5

    refused, kept = fail_a_run(dagster_instance).run_id, fail_a_run(dagster_instance).run_id
    alerts_to.statuses = [400]  # the receiver refuses the first message: skipped, not retried forever
    rejected = run_tick(dagster_instance, up.cursor)
    assert rejected.skip_message == "posted 1 alert(s); 1 rejected by the webhook"
    assert [p["alert"]["fields"]["run_id"] for p in alerts_to.posts[5:]] == [refused, kept]
    assert run_tick(dagster_instance, rejected.cursor).cursor == rejected.cursor and len(alerts_to.posts) == 7


def test_the_tick_budget_stops_starting_new_posts(alerts_to, dagster_instance, monkeypatch):
    monkeypatch.setattr(sensors, "TICK_BUDGET_SECONDS", 0.2)
    alerts_to.delay = 0.4  # each POST outlasts the budget
    start = run_tick(dagster_instance)
    failed = [fail_a_run(dagster_instance).run_id for _ in range(3)]

    cursor, messages = start.cursor, []
    for _ in range(3):
        tick = run_tick(dagster_instance, cursor)
        cursor, messages = tick.cursor, [*messages, tick.skip_message]
    assert messages == ["posted 1 alert(s); 2 failed run(s) left for the next tick",
                        "posted 1 alert(s); 1 failed run(s) left for the next tick",
                        "posted 1 alert(s)"]  # one POST per tick: the budget ran out during it
    assert [p["alert"]["fields"]["run_id"] for p in alerts_to.posts] == failed


def test_the_run_sensor_goes_on_from_a_run_failure_sensor_cursor(alerts_to, dagster_instance):
    @dg.run_failure_sensor
    def earlier_form(context):
        """The @run_failure_sensor this sensor replaced."""

    fail_a_run(dagster_instance)
    legacy = earlier_form.evaluate_tick(dg.build_sensor_context(instance=dagster_instance,
                                                                   resources=alert_resources()))
    assert "RunStatusSensorCursor" in legacy.cursor  # Dagster's JSON cursor, as stored for the old sensor
    result = fail_a_run(dagster_instance)
    tick = run_tick(dagster_instance, legacy.cursor)
    assert tick.skip_message == "posted 1 alert(s)"  # the failure after its cursor, not the one before
    assert [p["alert"]["fields"]["run_id"] for p in alerts_to.posts] == [result.run_id]


def test_failed_runs_of_other_code_locations_are_ignored(alerts_to, dagster_instance):
    elsewhere = dg.build_sensor_context(instance=dagster_instance, repository_name="another_repository",
                                        resources=alert_resources())
    start = run_failure_alert_sensor.evaluate_tick(elsewhere)
    fail_a_run(dagster_instance)  # its run is from no code location (executed in process)
    elsewhere = dg.build_sensor_context(instance=dagster_instance, repository_name="another_repository",
                                        cursor=start.cursor, resources=alert_resources())
    tick = run_failure_alert_sensor.evaluate_tick(elsewhere)
    assert tick.skip_message == "posted 0 alert(s); 1 failure(s) of other code locations or deleted runs ignored"
    assert int(tick.cursor) > int(start.cursor) and alerts_to.posts == []


# --- asset checks ---------------------------------------------------------------------------


def test_failed_and_warning_checks_are_posted_once(alerts_to, dagster_instance):
    evaluate_checks(dagster_instance, "2026-05-31")  # before the sensor started: not replayed
    start = check_tick(dagster_instance)
    assert start.skip_message.startswith("starting after check evaluation") and alerts_to.posts == []

    evaluate_checks(dagster_instance)
    tick = check_tick(dagster_instance, start.cursor)
    assert int(tick.cursor) > int(start.cursor)
    assert tick.skip_message == "posted 2 alert(s); 1 passing evaluation(s) ignored"
    by_check = {p["alert"]["fields"]["check"]: p for p in alerts_to.posts}
    assert set(by_check) == {"thing_is_broken", "thing_is_odd"}  # the passing one is not posted

    broken = by_check["thing_is_broken"]["alert"]
    assert broken["severity"] == "error" and broken["summary"] == "3 rows differ from the raw events"
    assert broken["fields"]["asset"] == "usage/thing" and broken["fields"]["partition"] == "2026-06-01"
    assert broken["fields"]["mismatched_rows"] == 3 and "details" not in broken["fields"]
    assert broken["link"] == f"{UI}/assets/usage/thing?view=checks&checkDetail=thing_is_broken"
    assert by_check["thing_is_broken"]["text"].startswith(
        ":red_circle: *Check thing_is_broken on usage/thing failed (partition 2026-06-01)*")
    odd = by_check["thing_is_odd"]["alert"]
    assert odd["severity"] == "warning" and odd["fields"]["quarantine_rate"] == 0.004

    again = check_tick(dagster_instance, tick.cursor)
    assert again.cursor == tick.cursor and len(alerts_to.posts) == 2
    assert again.skip_message == "posted 0 alert(s); 0 passing evaluation(s) ignored"


def test_a_range_run_reports_its_partition_range(alerts_to, dagster_instance):
    start = check_tick(dagster_instance)

    @dg.asset(partitions_def=daily, backfill_policy=dg.BackfillPolicy.single_run())
    def ranged() -> None:
        """A single-run backfill asset."""

    @dg.asset_check(asset=ranged, partitions_def=daily)
    def ranged_fails() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=False)

    dg.materialize([ranged, ranged_fails], instance=dagster_instance,
                   tags={"dagster/asset_partition_range_start": "2026-06-01",
                         "dagster/asset_partition_range_end": "2026-06-07"})
    check_tick(dagster_instance, start.cursor)
    [post] = alerts_to.posts
    assert post["alert"]["fields"]["partition"] == "2026-06-01…2026-06-07"  # from the run's range tags


def test_a_webhook_outage_is_retried_on_the_next_tick_without_duplicates(alerts_to, dagster_instance, monkeypatch):
    start = check_tick(dagster_instance)
    evaluate_checks(dagster_instance)
    with monkeypatch.context() as patch:  # out of time for this tick: nothing posted, nothing lost
        patch.setattr(sensors, "TICK_BUDGET_SECONDS", -1.0)
        late = check_tick(dagster_instance, start.cursor)
    assert "left for the next tick" in late.skip_message and alerts_to.posts == []

    alerts_to.statuses = [500] * 3  # the first alert's three attempts fail
    down = check_tick(dagster_instance, late.cursor)
    assert "left for the next tick" in down.skip_message and down.cursor == late.cursor
    assert len(alerts_to.posts) == 3

    up = check_tick(dagster_instance, down.cursor)
    delivered = [p["alert"]["fields"]["check"] for p in alerts_to.posts[3:]]
    assert sorted(delivered) == ["thing_is_broken", "thing_is_odd"]
    assert check_tick(dagster_instance, up.cursor).cursor == up.cursor and len(alerts_to.posts) == 5

    evaluate_checks(dagster_instance, "2026-06-02")
    alerts_to.statuses = [400]  # the receiver refuses the first message: skipped, not retried forever
    rejected = check_tick(dagster_instance, up.cursor)
    assert rejected.skip_message == "posted 1 alert(s); 1 passing evaluation(s) ignored; 1 rejected by the webhook"
    assert len(alerts_to.posts) == 7
    assert check_tick(dagster_instance, rejected.cursor).cursor == rejected.cursor and len(alerts_to.posts) == 7


# --- no webhook -----------------------------------------------------------------------------


def test_both_sensors_skip_while_the_url_is_unset(webhook, dagster_instance, monkeypatch):
    monkeypatch.delitem(ALERT_ENV, "ANALYTICS_ALERT_WEBHOOK_URL", raising=False)
    runs_start = run_tick(dagster_instance)
    fail_a_run(dagster_instance)
    runs_unset = run_tick(dagster_instance, runs_start.cursor)
    assert runs_unset.skip_message == WEBHOOK_UNSET
    assert int(runs_unset.cursor) > int(runs_start.cursor)  # moved past: no backlog when alerts are turned on

    start = check_tick(dagster_instance)
    evaluate_checks(dagster_instance)
    unset = check_tick(dagster_instance, start.cursor)
    assert unset.skip_message == WEBHOOK_UNSET
    assert int(unset.cursor) > int(start.cursor)

    monkeypatch.setitem(ALERT_ENV, "ANALYTICS_ALERT_WEBHOOK_URL", webhook.url)
    assert run_tick(dagster_instance, runs_unset.cursor).skip_message == "posted 0 alert(s)"
    assert check_tick(dagster_instance, unset.cursor).skip_message.startswith("posted 0 alert(s)")
    assert webhook.posts == []


def test_sensors_are_named_and_described():
    assert asset_check_alert_sensor.name == ASSET_CHECK_ALERT_SENSOR and asset_check_alert_sensor.description
    assert run_failure_alert_sensor.name == RUN_FAILURE_ALERT_SENSOR and run_failure_alert_sensor.description
    assert asset_check_alert_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert run_failure_alert_sensor.default_status == dg.DefaultSensorStatus.RUNNING
