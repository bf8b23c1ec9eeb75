"""The rules document and the pure rule evaluation and lifecycle step."""

from datetime import UTC, datetime, timedelta

import pytest

from analytics_pipeline.alerts.conditions import (
    EndpointWindow,
    Observations,
    OrganizationErrors,
    SourceActivity,
    evaluate,
)
from analytics_pipeline.alerts.lifecycle import Policy, Tracked, step
from analytics_pipeline.alerts.routing import Routes
from analytics_pipeline.alerts.rules import KIND_PARAMETERS, SEVERITIES, RulesFileError, load_rules, parse_rules
from analytics_pipeline.api.portal import status

NOW = datetime(2026, 11, 3, 10, tzinfo=UTC)


def test_the_shipped_rules_load_cover_every_kind_and_every_rule_has_a_severity():
    rules = load_rules()
    assert {rule.kind for rule in rules.rules} == set(KIND_PARAMETERS)
    assert all(rule.severity in SEVERITIES for rule in rules.rules)
    assert (rules.window_minutes, rules.hold_seconds, rules.renotify_minutes) == (15, 30, 60)


def test_json_rules_read_like_toml(tmp_path):
    path = tmp_path / "rules.json"
    path.write_text('{"evaluation": {"hold_seconds": 0}, "rules": [{"name": "lat", "kind": "endpoint_p95_latency", '
                    '"severity": "info", "above_ms": 2500.5}]}')
    [rule] = load_rules(path).rules
    assert rule["above_ms"] == 2500.5 and rule["min_requests"] == 50


@pytest.mark.parametrize(("document", "message"), [
    ("[[rules]]\nname='x'\nkind='nope'\nseverity='critical'", "unknown kind 'nope'"),
    ("[[rules]]\nname='x'\nkind='endpoint_5xx_rate'\nseverity='page'\nabove_percent=1", "severity must be one of"),
    ("[[rules]]\nname='x'\nkind='endpoint_5xx_rate'\nseverity='warning'", "needs above_percent"),
    ("[[rules]]\nname='x'\nkind='endpoint_5xx_rate'\nseverity='warning'\nabove_percent=1\nabove=2",
     "unknown parameter"),
    ("[[rules]]\nname='x'\nkind='export_queue_stuck'\nseverity='warning'\n"
     "[[rules]]\nname='x'\nkind='export_queue_stuck'\nseverity='info'", "unique: x"),
    ("[evaluation]\nhold_seconds = -1", "evaluation.hold_seconds"),
    ("[[rules]]\nname='x'\nkind='endpoint_p95_latency'\nseverity='warning'\nabove_ms='fast'", "must be a number"),
    ("[[rules]]\nname='run_failure'\nkind='export_queue_stuck'\nseverity='warning'", "reserved for the pipeline"),
])
def test_an_unusable_rule_is_refused_naming_the_file_and_the_rule(document, message):
    with pytest.raises(RulesFileError, match=message) as refused:
        parse_rules(document, source="rules.toml")
    assert str(refused.value).startswith("rules.toml")


def test_availability_maps_the_status_page_states_to_critical_and_warning():
    rules = parse_rules("[[rules]]\nname='avail'\nkind='endpoint_availability'\nseverity='critical'\n")
    windows = [EndpointWindow("/outage", 100, 20, 1.0), EndpointWindow("/degraded", 1000, 20, 1.0),
               EndpointWindow("/fine", 1000, 2, 1.0), EndpointWindow("/quiet-one-error", 20, 1, 1.0)]
    found = {c.subject: c.severity for c in evaluate(rules, Observations(now=NOW, endpoints=windows))}
    assert found == {"/outage": "critical", "/degraded": "warning"}
    # The same judgement as the status page, by its own function.
    assert [status.state_of(w.requests, w.server_errors) for w in windows] == [
        "outage", "degraded", "operational", "operational"]


def test_an_organization_is_judged_against_its_own_baseline():
    rules = parse_rules("[[rules]]\nname='org'\nkind='organization_error_rate'\nseverity='warning'\n")
    rows = [OrganizationErrors("usually-fine", 200, 30, 10_000, 10),   # 15 % against 0.1 %
            OrganizationErrors("always-flaky", 200, 30, 10_000, 1_400),  # 15 % against 14 %
            OrganizationErrors("too-few", 10, 5, 10_000, 0)]
    found = evaluate(rules, Observations(now=NOW, organizations={"org": rows}))
    assert [c.subject for c in found] == ["usually-fine"]


def test_ingestion_is_stalled_only_where_traffic_was_expected():
    rules = parse_rules("[[rules]]\nname='stall'\nkind='ingestion_stalled'\nseverity='critical'\n"
                        "stalled_minutes=30\nexpected_hours=24\n")
    sources = [SourceActivity("usage_logs", NOW - timedelta(minutes=45), 300),
               SourceActivity("kinesis", NOW - timedelta(minutes=2), 9000),
               SourceActivity("old", NOW - timedelta(hours=30), 5)]
    found = evaluate(rules, Observations(now=NOW, sources=sources))
    assert [(c.dedup_key, c.severity) for c in found] == [("stall/usage_logs", "critical")]


def tracked(status, **times):
    base = dict(first_seen_at=NOW, fired_at=None, last_notified_at=None, clear_since=None, acknowledged_at=None)
    return Tracked("k", "r", "critical", status, "s", "summary", **{**base, **times})


def test_the_lifecycle_step_holds_fires_once_renotifies_and_resolves_after_the_hold():
    policy = Policy(hold=timedelta(seconds=60), renotify=timedelta(minutes=30))
    assert step(None, False, NOW, policy) is None
    assert step(None, True, NOW, policy).status == "pending"
    assert step(tracked("pending"), True, NOW + timedelta(seconds=59), policy).notify is None
    fired = step(tracked("pending"), True, NOW + timedelta(seconds=60), policy)
    assert (fired.status, fired.notify) == ("firing", "fired")
    assert step(tracked("pending"), False, NOW, policy).status is None  # forgotten, never notified
    firing = tracked("firing", fired_at=NOW, last_notified_at=NOW)
    assert step(firing, True, NOW + timedelta(minutes=29), policy).notify is None
    assert step(firing, True, NOW + timedelta(minutes=30), policy).notify == "renotified"
    assert step(tracked("acknowledged", fired_at=NOW, last_notified_at=NOW), True, NOW + timedelta(hours=5),
                policy).notify is None
    clearing = step(firing, False, NOW + timedelta(minutes=1), policy)
    assert (clearing.status, clearing.notify, clearing.clear_since) == ("firing", None, NOW + timedelta(minutes=1))
    back = step(tracked("firing", fired_at=NOW, last_notified_at=NOW, clear_since=NOW), True,
                NOW + timedelta(minutes=2), policy)
    assert back.clear_since is None and back.notify is None  # a blip of health resolves nothing
    resolved = step(tracked("firing", fired_at=NOW, last_notified_at=NOW, clear_since=NOW), False,
                    NOW + timedelta(seconds=60), policy)
    assert (resolved.status, resolved.notify) == ("resolved", "resolved")


def test_routes_by_severity_with_critical_falling_back_to_the_webhook():
    both = Routes(pagerduty_routing_key="k", webhook_url="http://127.0.0.1:1/h")
    assert [both.routes_for(s) for s in SEVERITIES] == [["pagerduty"], ["slack"], []]
    assert Routes(webhook_url="http://127.0.0.1:1/h").routes_for("critical") == ["slack"]
    assert Routes().routes_for("critical") == []


def test_routes_never_show_their_secrets():
    routes = Routes(pagerduty_routing_key="s3cret-key", webhook_url="https://hooks.example/T/B/s3cret")
    assert "s3cret" not in repr(routes) and "s3cret" not in str(routes)
