"""Platform alerts end to end: raw events -> rules -> lifecycle in PostgreSQL -> outbox -> real HTTP
receivers shaped like PagerDuty and Slack, through a 5xx burst and its recovery, and through a
receiver outage. The clock is injected: every evaluation names its own "now"."""

from datetime import UTC, datetime, timedelta

from analytics_pipeline.alerts.evaluation import evaluate_and_dispatch
from analytics_pipeline.alerts.lifecycle import acknowledge, list_alerts
from analytics_pipeline.alerts.outbox import outbox_summary
from analytics_pipeline.alerts.routing import Routes
from analytics_pipeline.alerts.rules import parse_rules
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.alerts.platform_events import insert_endpoint_events

T0 = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
ENDPOINT = "/v1/chat/completions"
RULES = parse_rules("""
[evaluation]
window_minutes = 15
hold_seconds = 60
renotify_minutes = 60

[[rules]]
name = "endpoint_availability"
kind = "endpoint_availability"
severity = "critical"

[[rules]]
name = "endpoint_5xx_rate"
kind = "endpoint_5xx_rate"
severity = "warning"
above_percent = 2.0
min_requests = 50
""")


def routes(pagerduty, webhook) -> Routes:
    return Routes(pagerduty_routing_key="R0UTINGKEY", pagerduty_events_url=pagerduty.url, webhook_url=webhook.url)


def healthy_traffic(conn, start, minutes):
    insert_endpoint_events(conn, endpoint=ENDPOINT, start=start, count=minutes * 60, status=200)


def test_a_5xx_burst_triggers_once_stays_quiet_while_firing_and_resolves_once(warehouse_url, pagerduty, webhook):
    with connect(warehouse_url) as conn:
        healthy_traffic(conn, T0 - timedelta(minutes=15), 15)
        run = lambda at: evaluate_and_dispatch(conn, RULES, routes(pagerduty, webhook), now=at)  # noqa: E731
        assert run(T0).evaluation.conditions == 0

        # The fault: 200 requests answered 503 within a minute (the status page's "outage").
        insert_endpoint_events(conn, endpoint=ENDPOINT, start=T0, count=200, status=503,
                               spacing=timedelta(milliseconds=250))
        healthy_traffic(conn, T0, 3)
        first = run(T0 + timedelta(seconds=60))
        assert first.evaluation.pending and not first.evaluation.fired and pagerduty.posts == []  # hold time
        fired = run(T0 + timedelta(seconds=120))
        assert sorted(fired.evaluation.fired) == [f"endpoint_5xx_rate/{ENDPOINT}",
                                                  f"endpoint_availability/critical/{ENDPOINT}"]
        assert len(pagerduty.posts) == 1 and len(webhook.posts) == 1
        for minute in (3, 4, 10, 14):  # still firing: nothing more
            run(T0 + timedelta(minutes=minute))
        assert len(pagerduty.posts) == 1 and len(webhook.posts) == 1

        # Recovery: the burst leaves the 15-minute window; healthy requests go on.
        healthy_traffic(conn, T0 + timedelta(minutes=3), 20)
        clearing = run(T0 + timedelta(minutes=16))
        assert clearing.evaluation.resolved == [] and len(pagerduty.posts) == 1  # clear, but for less than the hold
        resolved = run(T0 + timedelta(minutes=17))
        assert sorted(resolved.evaluation.resolved) == sorted(fired.evaluation.fired)
        run(T0 + timedelta(minutes=18))
        run(T0 + timedelta(minutes=30))

        trigger, resolve = pagerduty.posts
        key = f"endpoint_availability/critical/{ENDPOINT}"
        assert trigger["routing_key"] == "R0UTINGKEY" and trigger["event_action"] == "trigger"
        assert trigger["dedup_key"] == key
        assert trigger["payload"]["severity"] == "critical" and trigger["payload"]["source"] == "analytics-pipeline"
        assert ENDPOINT in trigger["payload"]["summary"] and "outage" in trigger["payload"]["summary"]
        assert trigger["payload"]["custom_details"]["server_errors"] == 200
        assert resolve == {"routing_key": "R0UTINGKEY", "event_action": "resolve", "dedup_key": key}
        slack_trigger, slack_resolve = webhook.posts
        assert slack_trigger["text"].startswith(":warning: *Firing* [warning]")
        assert slack_resolve["alert"]["action"] == "resolve"
        assert slack_resolve["alert"]["dedup_key"] == f"endpoint_5xx_rate/{ENDPOINT}"

        history = conn.execute("SELECT event, count(*) FROM analytics_alert_history GROUP BY 1 ORDER BY 1").fetchall()
        assert history == [("fired", 2), ("resolved", 2)]
        assert {a["status"] for a in list_alerts(conn)} == {"resolved"}
        assert outbox_summary(conn) == {"pagerduty": (2, 0, 0), "slack": (2, 0, 0)}


def test_a_flapping_condition_shorter_than_the_hold_time_pages_nobody(warehouse_url, pagerduty, webhook):
    with connect(warehouse_url) as conn:
        healthy_traffic(conn, T0 - timedelta(minutes=15), 15)
        rules = parse_rules(
            "[evaluation]\nwindow_minutes = 1\nhold_seconds = 90\n"
            "[[rules]]\nname='a'\nkind='endpoint_availability'\nseverity='critical'\n")
        for minute in range(6):  # bad, good, bad, good...: never 90 s in a row
            start = T0 + timedelta(minutes=minute)
            insert_endpoint_events(conn, endpoint=ENDPOINT, start=start, count=60,
                                   status=503 if minute % 2 == 0 else 200, prefix=f"flap-{minute}")
            evaluate_and_dispatch(conn, rules, routes(pagerduty, webhook), now=start + timedelta(minutes=1))
        assert pagerduty.posts == [] and webhook.posts == []
        assert conn.execute("SELECT count(*) FROM analytics_alert_history").fetchone()[0] == 0


def test_a_receiver_outage_delays_notifications_and_delivers_each_exactly_once(warehouse_url, pagerduty, webhook):
    with connect(warehouse_url) as conn:
        healthy_traffic(conn, T0 - timedelta(minutes=15), 15)
        insert_endpoint_events(conn, endpoint=ENDPOINT, start=T0, count=200, status=503,
                               spacing=timedelta(milliseconds=250))
        pagerduty.statuses = [503, 502] + [500] * 100  # the outage, until it is over (below)
        webhook.statuses = [503]
        run = lambda at: evaluate_and_dispatch(conn, RULES, routes(pagerduty, webhook), now=at)  # noqa: E731
        run(T0 + timedelta(seconds=60))
        outage = run(T0 + timedelta(seconds=120))  # fires; both receivers fail
        assert outage.dispatch.retrying == 2 and outage.dispatch.delivered == 0
        run(T0 + timedelta(seconds=140))  # backoff: not due yet, nothing posted
        assert pagerduty.answers == [503] and webhook.answers == [503]
        run(T0 + timedelta(seconds=151))  # 30 s later: PagerDuty fails again, Slack delivers
        assert pagerduty.answers == [503, 502] and webhook.answers == [503, 200]
        run(T0 + timedelta(seconds=212))  # 60 s after that: fails a third time
        run(T0 + timedelta(seconds=240))  # not due (120 s backoff)
        assert pagerduty.answers == [503, 502, 500]
        # The alert clears while PagerDuty is still down: the resolve queues behind the trigger.
        run(T0 + timedelta(minutes=16))
        run(T0 + timedelta(minutes=17))
        assert conn.execute("SELECT count(*) FROM analytics_alert_outbox WHERE delivered_at IS NULL"
                            ).fetchone()[0] == 2  # PagerDuty's trigger and resolve
        assert len(pagerduty.answers) < 10  # backing off, not hammering the receiver
        pagerduty.statuses.clear()  # the receiver is back
        for minute in range(18, 40):  # the receiver is back: every notification once, in order
            run(T0 + timedelta(minutes=minute))
        delivered = [post for post, answer in zip(pagerduty.posts, pagerduty.answers, strict=True) if answer == 200]
        assert [post["event_action"] for post in delivered] == ["trigger", "resolve"]
        assert len({post["dedup_key"] for post in delivered}) == 1
        assert [post["alert"]["action"] for post, answer in zip(webhook.posts, webhook.answers, strict=True)
                if answer == 200] == ["trigger", "resolve"]
        assert outbox_summary(conn) == {"pagerduty": (2, 0, 0), "slack": (2, 0, 0)}


def test_an_acknowledged_alert_sends_no_reminder_but_still_resolves(warehouse_url, pagerduty, webhook):
    with connect(warehouse_url) as conn:
        healthy_traffic(conn, T0 - timedelta(minutes=15), 15)
        insert_endpoint_events(conn, endpoint=ENDPOINT, start=T0, count=200, status=503,
                               spacing=timedelta(milliseconds=250))
        rules = parse_rules("[evaluation]\nhold_seconds = 0\nrenotify_minutes = 5\nwindow_minutes = 15\n"
                            "[[rules]]\nname='a'\nkind='endpoint_availability'\nseverity='critical'\n"
                            "[[rules]]\nname='b'\nkind='endpoint_5xx_rate'\nseverity='warning'\nabove_percent=1\n")
        run = lambda at: evaluate_and_dispatch(conn, rules, routes(pagerduty, webhook), now=at)  # noqa: E731
        run(T0 + timedelta(minutes=1))
        assert acknowledge(conn, f"a/critical/{ENDPOINT}", by="oncall@example.com", now=T0 + timedelta(minutes=2))
        assert not acknowledge(conn, "no/such/alert", by="x", now=T0)
        run(T0 + timedelta(minutes=7))  # 6 minutes on: the unacknowledged warning reminds, the critical does not
        assert len(pagerduty.posts) == 1
        assert [p["text"].split("*")[1] for p in webhook.posts] == ["Firing", "Still firing"]
        run(T0 + timedelta(minutes=16))
        assert [p["event_action"] for p in pagerduty.posts] == ["trigger", "resolve"]
        events = [row[0] for row in conn.execute(
            "SELECT event FROM analytics_alert_history WHERE rule = 'a' ORDER BY history_id")]
        assert events == ["fired", "acknowledged", "resolved"]
