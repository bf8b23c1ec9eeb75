"""Alert messages of failed runs and checks, and their delivery to a real HTTP server: retries,
backoff, timeouts, rejections."""

import socket
from datetime import UTC, datetime

import pytest

from analytics_pipeline.alerts.messages import asset_checks_url, numeric_or_short, run_url
from analytics_pipeline.alerts.pipeline_events import asset_check_alert, run_failure_alert
from analytics_pipeline.alerts.routing import PAGERDUTY, SLACK, TRIGGER, payload_for
from analytics_pipeline.alerts.webhook import post_json

UI = "http://dagster.example:3000/"
AT = datetime(2026, 6, 1, 15, 0, tzinfo=UTC)


def test_links_into_the_dagster_ui():
    assert run_url(UI, "abc-123") == "http://dagster.example:3000/runs/abc-123"
    assert asset_checks_url(UI, ["usage", "hourly rollups"], "usage_within_normal_range") == (
        "http://dagster.example:3000/assets/usage/hourly%20rollups?view=checks&checkDetail=usage_within_normal_range")


def test_a_failed_run_is_a_critical_alert_whose_slack_text_is_escaped_and_links_to_the_run():
    alert = run_failure_alert(ui_url=UI, job_name="hourly_rollups_job", run_id="r1",
                              error="relation <analytics_events> & co. does not exist", partition="2026-06-01-14:00",
                              tags={"team": "data", ".dagster/grpc_info": "hidden", "dagster/partition": "x"},
                              partition_tags={"dagster/partition": "x"}, failed_at=AT)
    assert alert.severity == "critical" and alert.dedup_key == "run_failure/r1"
    assert alert.subject == "hourly_rollups_job[2026-06-01-14:00]"
    message = payload_for(SLACK, TRIGGER, dedup_key=alert.dedup_key, summary=alert.summary, severity=alert.severity,
                          subject=alert.subject, rule=alert.rule, at=AT, details=alert.details)
    text = message["text"]
    assert text.startswith(":rotating_light: *Firing* [critical] Run of hourly_rollups_job failed "
                           "(partition 2026-06-01-14:00)")
    assert "relation &lt;analytics_events&gt; &amp; co. does not exist" in text  # Slack mrkdwn escaped
    assert text.endswith("<http://dagster.example:3000/runs/r1|Open in Dagster>")
    assert message["alert"]["kind"] == "run_failure" and message["alert"]["severity"] == "critical"
    fields = message["alert"]["fields"]
    assert fields["tag team"] == "data" and "tag .dagster/grpc_info" not in fields
    assert fields["error"] == "relation <analytics_events> & co. does not exist"  # raw in the fields
    page = payload_for(PAGERDUTY, TRIGGER, dedup_key=alert.dedup_key, summary=alert.summary, severity="critical",
                       subject=alert.subject, rule=alert.rule, at=AT, details=alert.details)
    assert page["links"] == [{"href": "http://dagster.example:3000/runs/r1", "text": "Open in Dagster"}]
    assert page["payload"]["custom_details"]["run_id"] == "r1" and page["payload"]["class"] == "run_failure"


def test_check_alerts_keep_numbers_and_short_texts_only_and_take_the_checks_severity():
    metadata = numeric_or_short({"mismatched_rows": 3, "rate": 0.0042, "nan": float("nan"), "flag": True,
                                 "window_start": "2026-06-01T00:00:00+00:00", "long": "x" * 500, "table": None})
    assert metadata == {"mismatched_rows": 3, "rate": 0.0042, "flag": "true",
                        "window_start": "2026-06-01T00:00:00+00:00"}
    alert = asset_check_alert(ui_url=UI, asset_path=["hourly_usage_rollups"], check_name="usage_within_normal_range",
                              is_error=False, description="2 organization(s) beyond 3 standard deviations",
                              partition="2026-06-01-14:00", run_id="r9", evaluation_id=42,
                              metadata={**metadata, "check": "spoofed"})
    assert alert.severity == "warning" and alert.summary.startswith(
        "Check usage_within_normal_range on hourly_usage_rollups warned (partition 2026-06-01-14:00)")
    assert alert.dedup_key == "asset_check/hourly_usage_rollups/usage_within_normal_range/2026-06-01-14:00/42"
    assert alert.details["check"] == "usage_within_normal_range" and alert.details["mismatched_rows"] == 3
    assert alert.details["link"].endswith("/assets/hourly_usage_rollups?view=checks"
                                          "&checkDetail=usage_within_normal_range")
    failed = asset_check_alert(ui_url=UI, asset_path=["a"], check_name="c", is_error=True, description=None,
                               partition=None, run_id=None, evaluation_id=1, metadata={})
    assert failed.severity == "critical" and failed.summary == "Check c on a failed" and failed.subject == "a:c"


def test_delivered_first_time(webhook):
    delivery = post_json(webhook.url, {"text": "hello"})
    assert (delivery.delivered, delivery.attempts, delivery.status) == (True, 1, 200)
    assert webhook.posts == [{"text": "hello"}]
    assert webhook.headers[0]["Content-Type"].startswith("application/json")


def test_a_500_then_200_is_retried_with_backoff(webhook):
    webhook.statuses = [500, 503]
    sleeps = []
    delivery = post_json(webhook.url, {"text": "hello"}, attempts=3, backoff_seconds=0.05, sleep=sleeps.append)
    assert (delivery.delivered, delivery.attempts, delivery.status) == (True, 3, 200)
    assert sleeps == [0.05, 0.1]  # exponential
    assert webhook.posts == [{"text": "hello"}] * 3


def test_persistent_5xx_gives_up_without_raising(webhook):
    webhook.statuses = [500] * 5
    delivery = post_json(webhook.url, {"text": "x"}, attempts=3, backoff_seconds=0, sleep=lambda s: None)
    assert (delivery.delivered, delivery.attempts, delivery.status, delivery.retryable) == (False, 3, 500, True)
    assert delivery.error.startswith("HTTP 500")
    assert len(webhook.posts) == 3


def test_a_4xx_is_not_retried(webhook):
    webhook.statuses = [400]
    delivery = post_json(webhook.url, {"text": "x"}, attempts=3, sleep=lambda s: None)
    assert (delivery.delivered, delivery.attempts, delivery.status, delivery.retryable) == (False, 1, 400, False)
    assert len(webhook.posts) == 1


def test_timeout_is_retried_and_reported(webhook):
    webhook.delay = 0.5
    delivery = post_json(webhook.url, {"text": "slow"}, attempts=2, timeout_seconds=0.1, backoff_seconds=0,
                         sleep=lambda s: None)
    assert not delivery.delivered and delivery.retryable and delivery.attempts == 2
    assert "timed out" in delivery.error.lower()
    assert len(webhook.posts) == 2


def test_connection_refused_is_retried_and_reported():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps = []
    delivery = post_json(f"http://127.0.0.1:{port}/hook", {"text": "x"}, attempts=3, backoff_seconds=0.01,
                         sleep=sleeps.append)
    assert not delivery.delivered and delivery.retryable and delivery.status is None
    assert "refused" in delivery.error.lower() and sleeps == [0.01, 0.02]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "not a url"])
def test_non_http_urls_are_refused_without_echoing_them(url):
    delivery = post_json(url, {"text": "x"})
    assert not delivery.delivered and delivery.attempts == 0 and "passwd" not in delivery.error


def test_unserialisable_payload_is_reported():
    delivery = post_json("http://127.0.0.1:9/hook", {"value": float("inf")})
    assert not delivery.delivered and "not valid JSON" in delivery.error
