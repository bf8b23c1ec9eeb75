"""The failed-run and asset-check alert sensors against a real (PostgreSQL) Dagster instance, the
warehouse's alert store and real HTTP receivers shaped like PagerDuty and a Slack webhook: failed
runs and check evaluations are produced by executing small jobs and assets. The clock is injected:
each tick names its own "now" (the outbox's retry backoff is judged by it)."""

import socket
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from analytics_pipeline.alerts.evaluation import evaluate_and_dispatch
from analytics_pipeline.alerts.lifecycle import list_alerts
from analytics_pipeline.alerts.outbox import outbox_summary
from analytics_pipeline.api.routes.portal.oncall import open_incidents
from analytics_pipeline.defs.alerts.resources import AlertSettings
from analytics_pipeline.defs.alerts.sensors import (
    ASSET_CHECK_ALERT_SENSOR,
    RUN_FAILURE_ALERT_SENSOR,
    asset_check_alert_sensor,
    run_failure_alert_sensor,
)
from analytics_pipeline.defs.resources import ClockResource, WarehouseResource
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.alerts.test_platform_alerts import RULES

UI = "http://dagster.example:3000"
T0 = datetime(2026, 6, 1, 15, 0, tzinfo=UTC)
ROUTING_KEY = "R0UTINGKEY"
#: Whether the stand-in check that warns passes on its next evaluation (a test flips it).
OUTCOMES = {"odd_passes": False}


class Receivers:
    """The sensors' resources: the warehouse, the receivers, and a clock a test moves on."""

    def __init__(self, warehouse_url, pagerduty, webhook):
        self.warehouse_url, self.pagerduty, self.webhook = warehouse_url, pagerduty, webhook
        self.now = T0
        self.settings = self.settings_with(pagerduty.url)

    def settings_with(self, pagerduty_url: str) -> AlertSettings:
        return AlertSettings(webhook_url=self.webhook.url, pagerduty_routing_key=ROUTING_KEY,
                             pagerduty_events_url=pagerduty_url, dagster_ui_url=UI + "/")

    def resources(self) -> dict:
        return {"warehouse": WarehouseResource(database_url=self.warehouse_url), "alert_settings": self.settings,
                "clock": ClockResource(frozen_at=self.now.isoformat())}

    def later(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def history(self) -> list[tuple[str, str, str]]:
        """(dedup key, severity, event) of every history row, in order."""
        with connect(self.warehouse_url) as conn:
            return conn.execute("SELECT dedup_key, severity, event FROM analytics_alert_history "
                                "ORDER BY history_id").fetchall()

    def outbox(self) -> dict:
        with connect(self.warehouse_url) as conn:
            return outbox_summary(conn)


@pytest.fixture
def receivers(warehouse_url, pagerduty, webhook):
    OUTCOMES["odd_passes"] = False
    return Receivers(warehouse_url, pagerduty, webhook)


@dg.op
def load_partition(context: dg.OpExecutionContext):
    if context.run.tags.get("outcome") != "success":
        raise ValueError("boom: relation analytics_events does not exist")


@dg.job
def loading_job():
    load_partition()


def fail_a_run(instance, **tags):
    result = loading_job.execute_in_process(instance=instance, raise_on_error=False, tags=tags)
    assert not result.success
    return result


def succeed_a_run(instance, **tags):
    assert loading_job.execute_in_process(instance=instance, tags={**tags, "outcome": "success"}).success


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
    """Warns, until OUTCOMES says it passes."""
    if OUTCOMES["odd_passes"]:
        return dg.AssetCheckResult(passed=True)
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN, description="0.4% quarantined",
                               metadata={"quarantine_rate": 0.004})


@dg.asset_check(asset=thing, partitions_def=daily)
def thing_is_fine() -> dg.AssetCheckResult:
    """Passes."""
    return dg.AssetCheckResult(passed=True, metadata={"rows": 10})


def evaluate_checks(instance, partition_key="2026-06-01", checks=(thing_is_broken, thing_is_odd, thing_is_fine)):
    result = dg.materialize([thing, *checks], instance=instance, partition_key=partition_key)
    assert len(result.get_asset_check_evaluations()) == len(checks)
    return result


def run_tick(instance, receivers, cursor=None, **context):
    return run_failure_alert_sensor.evaluate_tick(dg.build_sensor_context(
        instance=instance, cursor=cursor, resources=receivers.resources(), **context))


def check_tick(instance, receivers, cursor=None):
    return asset_check_alert_sensor.evaluate_tick(dg.build_sensor_context(
        instance=instance, cursor=cursor, resources=receivers.resources()))


def unreachable_url() -> str:
    with socket.socket() as sock:  # a free port nobody listens on: connection refused
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v2/enqueue"


# --- failed runs ----------------------------------------------------------------------------


def test_a_failed_run_pages_once_and_resolves_at_the_next_success_of_its_partition(receivers, dagster_instance):
    pagerduty, webhook = receivers.pagerduty, receivers.webhook
    fail_a_run(dagster_instance)  # before the sensor started: not replayed
    start = run_tick(dagster_instance, receivers)
    assert start.skip_message.startswith("starting after run failure event") and pagerduty.posts == []

    run_id = fail_a_run(dagster_instance, **{"dagster/partition": "2026-06-01", "team": "data"}).run_id
    tick = run_tick(dagster_instance, receivers, start.cursor)
    assert int(tick.cursor) > int(start.cursor)
    assert tick.skip_message.startswith("recorded 1 alert(s), resolved 0; 1 delivery(ies) queued; deliveries: "
                                        "delivered 1")
    [page] = pagerduty.posts
    assert webhook.posts == []  # critical: PagerDuty only
    assert page["routing_key"] == ROUTING_KEY and page["event_action"] == "trigger"
    assert page["dedup_key"] == f"run_failure/{run_id}"
    assert page["payload"]["severity"] == "critical"
    assert page["payload"]["summary"].startswith("Run of loading_job failed (partition 2026-06-01): Execution of run")
    details = page["payload"]["custom_details"]
    assert details["error"].endswith("load_partition: ValueError: boom: relation analytics_events does not exist")
    assert details.items() >= {"job": "loading_job", "run_id": run_id, "partition": "2026-06-01",
                               "tag team": "data"}.items()
    assert page["links"] == [{"href": f"{UI}/runs/{run_id}", "text": "Open in Dagster"}]

    # The same tick evaluated again (as after a tick that timed out past its commit): nothing twice.
    receivers.later(60)
    again = run_tick(dagster_instance, receivers, start.cursor)
    assert again.cursor == tick.cursor and "recorded 0 alert(s), resolved 0; 1 already recorded" in again.skip_message
    assert len(pagerduty.posts) == 1
    assert receivers.history() == [(f"run_failure/{run_id}", "critical", "fired")]

    succeed_a_run(dagster_instance, **{"dagster/partition": "2026-05-31"})  # another partition: still open
    assert run_tick(dagster_instance, receivers, tick.cursor).skip_message.startswith("recorded 0 alert(s), resolved 0")
    succeed_a_run(dagster_instance, **{"dagster/partition": "2026-06-01"})
    receivers.later(60)
    resolved = run_tick(dagster_instance, receivers, tick.cursor)
    assert resolved.skip_message.startswith("recorded 0 alert(s), resolved 1")
    assert pagerduty.posts[1] == {"routing_key": ROUTING_KEY, "event_action": "resolve",
                                  "dedup_key": f"run_failure/{run_id}"}
    assert run_tick(dagster_instance, receivers, resolved.cursor).skip_message.startswith(
        "recorded 0 alert(s), resolved 0") and len(pagerduty.posts) == 2
    with connect(receivers.warehouse_url) as conn:
        [alert] = list_alerts(conn)
    assert alert["dedup_key"] == f"run_failure/{run_id}" and alert["status"] == "resolved"


def test_a_receiver_outage_then_recovery_delivers_each_failed_run_exactly_once(receivers, dagster_instance):
    pagerduty = receivers.pagerduty
    start = run_tick(dagster_instance, receivers)
    failed = [fail_a_run(dagster_instance).run_id for _ in range(2)]

    pagerduty.statuses = [503]  # PagerDuty is down for the first attempt
    down = run_tick(dagster_instance, receivers, start.cursor)
    assert "recorded 2 alert(s)" in down.skip_message and "to retry 2" in down.skip_message
    assert int(down.cursor) > int(start.cursor)  # recorded in the warehouse: the cursor moves on
    assert len(pagerduty.posts) == 1  # the receiver failing, the second is not tried in this tick
    assert receivers.outbox() == {"pagerduty": (0, 2, 0)}

    receivers.later(10)  # before the backoff: nothing sent
    early = run_tick(dagster_instance, receivers, down.cursor)
    assert "deliveries: delivered 0, to retry 0" in early.skip_message and len(pagerduty.posts) == 1

    receivers.later(30)  # up again, after the backoff
    up = run_tick(dagster_instance, receivers, early.cursor)
    assert "delivered 2" in up.skip_message
    assert [post["dedup_key"] for post in pagerduty.posts[1:]] == [f"run_failure/{run_id}" for run_id in failed]
    receivers.later(600)
    assert "delivered 0" in run_tick(dagster_instance, receivers, up.cursor).skip_message
    assert len(pagerduty.posts) == 3 and receivers.outbox() == {"pagerduty": (2, 0, 0)}
    assert [event for _, _, event in receivers.history()] == ["fired", "fired"]


def test_an_unreachable_pagerduty_loses_nothing(receivers, dagster_instance):
    receivers.settings = receivers.settings_with(unreachable_url())  # connection refused
    start = run_tick(dagster_instance, receivers)
    run_id = fail_a_run(dagster_instance).run_id
    down = run_tick(dagster_instance, receivers, start.cursor)
    assert "to retry 1" in down.skip_message and receivers.pagerduty.posts == []

    receivers.settings = receivers.settings_with(receivers.pagerduty.url)
    receivers.later(31)
    run_tick(dagster_instance, receivers, down.cursor)
    assert [post["dedup_key"] for post in receivers.pagerduty.posts] == [f"run_failure/{run_id}"]


def test_the_run_sensor_goes_on_from_a_run_failure_sensor_cursor(receivers, dagster_instance):
    @dg.run_failure_sensor
    def earlier_form(context):
        """The @run_failure_sensor this sensor replaced."""

    fail_a_run(dagster_instance)
    legacy = earlier_form.evaluate_tick(dg.build_sensor_context(instance=dagster_instance))
    assert "RunStatusSensorCursor" in legacy.cursor  # Dagster's JSON cursor, as stored for the old sensor
    result = fail_a_run(dagster_instance)
    tick = run_tick(dagster_instance, receivers, legacy.cursor)
    assert tick.skip_message.startswith("recorded 1 alert(s)")  # the failure after its cursor, not the one before
    assert [post["dedup_key"] for post in receivers.pagerduty.posts] == [f"run_failure/{result.run_id}"]


def test_failed_runs_of_other_code_locations_are_ignored(receivers, dagster_instance):
    start = run_tick(dagster_instance, receivers, repository_name="another_repository")
    fail_a_run(dagster_instance)  # its run is from no code location (executed in process)
    tick = run_tick(dagster_instance, receivers, start.cursor, repository_name="another_repository")
    assert "recorded 0 alert(s)" in tick.skip_message
    assert "1 failure(s) of other code locations or deleted runs ignored" in tick.skip_message
    assert int(tick.cursor) > int(start.cursor) and receivers.pagerduty.posts == [] and receivers.history() == []


def test_platform_evaluations_and_the_status_page_leave_failed_run_alerts_alone(receivers, dagster_instance):
    start = run_tick(dagster_instance, receivers)
    fail_a_run(dagster_instance)
    run_tick(dagster_instance, receivers, start.cursor)
    with connect(receivers.warehouse_url) as conn:
        for minutes in (5, 10, 120):  # well past the rules' hold and re-notify times
            evaluate_and_dispatch(conn, RULES, receivers.settings.routes(), now=T0 + timedelta(minutes=minutes))
        [alert] = list_alerts(conn)
        incidents = open_incidents(conn)
    assert alert["status"] == "firing" and len(receivers.pagerduty.posts) == 1  # an event: neither re-sent nor cleared
    assert incidents == []  # internal: not on the public status page


# --- asset checks ---------------------------------------------------------------------------


def test_a_warned_check_posts_once_to_the_webhook_and_a_failed_one_pages(receivers, dagster_instance):
    pagerduty, webhook = receivers.pagerduty, receivers.webhook
    evaluate_checks(dagster_instance, "2026-05-31")  # before the sensor started: not replayed
    start = check_tick(dagster_instance, receivers)
    assert start.skip_message.startswith("starting after check evaluation") and webhook.posts == []

    evaluate_checks(dagster_instance)
    tick = check_tick(dagster_instance, receivers, start.cursor)
    assert int(tick.cursor) > int(start.cursor)
    assert tick.skip_message.startswith("recorded 2 alert(s), resolved 0; 2 delivery(ies) queued; 1 passing")
    [post] = webhook.posts  # the warning
    odd = post["alert"]
    assert odd["kind"] == "asset_check" and odd["severity"] == "warning" and odd["action"] == "trigger"
    assert odd["fields"]["check"] == "thing_is_odd" and odd["fields"]["quarantine_rate"] == 0.004
    assert odd["fields"]["partition"] == "2026-06-01" and odd["fields"]["asset"] == "usage/thing"
    assert post["text"].startswith(":warning: *Firing* [warning] Check thing_is_odd on usage/thing warned "
                                   "(partition 2026-06-01): 0.4% quarantined")
    assert post["text"].endswith(f"<{UI}/assets/usage/thing?view=checks&checkDetail=thing_is_odd|Open in Dagster>")
    [page] = pagerduty.posts  # the failure (an ERROR check)
    assert page["payload"]["severity"] == "critical" and page["payload"]["custom_details"]["mismatched_rows"] == 3
    assert "details" not in page["payload"]["custom_details"]  # markdown metadata is left out
    assert page["payload"]["summary"] == ("Check thing_is_broken on usage/thing failed (partition 2026-06-01): "
                                          "3 rows differ from the raw events")

    # Re-evaluated (the cursor not kept): nothing recorded or sent twice.
    again = check_tick(dagster_instance, receivers, start.cursor)
    assert again.cursor == tick.cursor and "recorded 0 alert(s), resolved 0; 2 already recorded" in again.skip_message
    assert len(webhook.posts) == 1 and len(pagerduty.posts) == 1 and len(receivers.history()) == 2


def test_a_check_alert_resolves_at_the_next_passing_evaluation_of_its_partition(receivers, dagster_instance):
    webhook = receivers.webhook
    start = check_tick(dagster_instance, receivers)
    evaluate_checks(dagster_instance, checks=(thing_is_odd,))
    fired = check_tick(dagster_instance, receivers, start.cursor)
    assert fired.skip_message.startswith("recorded 1 alert(s)") and len(webhook.posts) == 1

    OUTCOMES["odd_passes"] = True
    evaluate_checks(dagster_instance, "2026-06-02", checks=(thing_is_odd,))  # another partition: still open
    assert check_tick(dagster_instance, receivers, fired.cursor).skip_message.startswith(
        "recorded 0 alert(s), resolved 0")
    evaluate_checks(dagster_instance, checks=(thing_is_odd,))
    resolved = check_tick(dagster_instance, receivers, fired.cursor)
    assert resolved.skip_message.startswith("recorded 0 alert(s), resolved 1")
    assert [post["alert"]["action"] for post in webhook.posts] == ["trigger", "resolve"]
    assert webhook.posts[1]["text"].startswith(":white_check_mark: *Resolved* [warning] resolved: Check thing_is_odd")
    assert [event for _, _, event in receivers.history()] == ["fired", "resolved"]


def test_a_range_run_reports_its_partition_range(receivers, dagster_instance):
    start = check_tick(dagster_instance, receivers)

    @dg.asset(partitions_def=daily, backfill_policy=dg.BackfillPolicy.single_run())
    def ranged() -> None:
        """A single-run backfill asset."""

    @dg.asset_check(asset=ranged, partitions_def=daily)
    def ranged_fails() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=False)

    dg.materialize([ranged, ranged_fails], instance=dagster_instance,
                   tags={"dagster/asset_partition_range_start": "2026-06-01",
                         "dagster/asset_partition_range_end": "2026-06-07"})
    check_tick(dagster_instance, receivers, start.cursor)
    [page] = receivers.pagerduty.posts
    assert page["payload"]["custom_details"]["partition"] == "2026-06-01…2026-06-07"  # from the run's range tags


def test_a_webhook_outage_then_recovery_delivers_each_check_alert_once(receivers, dagster_instance):
    webhook = receivers.webhook
    start = check_tick(dagster_instance, receivers)
    evaluate_checks(dagster_instance, checks=(thing_is_odd,))
    evaluate_checks(dagster_instance, "2026-06-02", checks=(thing_is_odd,))
    webhook.statuses = [500]
    down = check_tick(dagster_instance, receivers, start.cursor)
    assert "recorded 2 alert(s)" in down.skip_message and "to retry 2" in down.skip_message
    receivers.later(30)
    up = check_tick(dagster_instance, receivers, down.cursor)
    assert "delivered 2" in up.skip_message
    receivers.later(900)
    check_tick(dagster_instance, receivers, up.cursor)
    partitions = [post["alert"]["fields"]["partition"] for post in webhook.posts[1:]]
    assert partitions == ["2026-06-01", "2026-06-02"] and webhook.answers == [500, 200, 200]


# --- no receivers ----------------------------------------------------------------------------


def test_without_receivers_alerts_are_kept_in_the_history_only(receivers, dagster_instance):
    receivers.settings = AlertSettings(webhook_url=None, pagerduty_routing_key=None)
    start = run_tick(dagster_instance, receivers)
    run_id = fail_a_run(dagster_instance).run_id
    tick = run_tick(dagster_instance, receivers, start.cursor)
    assert tick.skip_message.startswith("recorded 1 alert(s), resolved 0; 0 delivery(ies) queued")
    assert receivers.history() == [(f"run_failure/{run_id}", "critical", "fired")]
    assert receivers.outbox() == {} and receivers.pagerduty.posts == [] and receivers.webhook.posts == []


def test_sensors_are_named_and_described():
    assert asset_check_alert_sensor.name == ASSET_CHECK_ALERT_SENSOR and asset_check_alert_sensor.description
    assert run_failure_alert_sensor.name == RUN_FAILURE_ALERT_SENSOR and run_failure_alert_sensor.description
    assert asset_check_alert_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert run_failure_alert_sensor.default_status == dg.DefaultSensorStatus.RUNNING
