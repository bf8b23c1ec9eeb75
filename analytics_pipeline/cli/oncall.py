"""The on-call commands of ``analytics-pipeline``, registered by :mod:`analytics_pipeline.cli`:

    analytics-pipeline alerts list [--open]        platform alerts, open ones first
    analytics-pipeline alerts ack KEY [--by WHO]   acknowledge a firing alert (no more reminders)
    analytics-pipeline alerts evaluate             evaluate the rules once and send what is due
    analytics-pipeline trace REQUEST_ID [--org ORG] [--json]   where a request came from, what became of it
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import UTC, datetime

from analytics_pipeline.cli.shared import connect_warehouse


def _show(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%SZ") if isinstance(value, datetime) else str(value or "")


def cmd_alerts(args) -> int:
    """``alerts list | ack KEY | evaluate``."""
    from analytics_pipeline.alerts.evaluation import evaluate_and_dispatch
    from analytics_pipeline.alerts.lifecycle import acknowledge, list_alerts
    from analytics_pipeline.alerts.routing import Routes
    from analytics_pipeline.alerts.rules import RulesFileError, load_rules
    from analytics_pipeline.settings import current_settings

    now = datetime.now(UTC)
    with connect_warehouse() as conn:
        if args.alerts_command == "list":
            alerts = list_alerts(conn, open_only=args.open, limit=args.limit)
            for alert in alerts:
                print(f"{alert['status']:<12} {alert['severity']:<8} {_show(alert['fired_at']):<20} "
                      f"{alert['dedup_key']}\n{'':>42}{alert['summary']}")
            print(f"{len(alerts)} alert(s)", file=sys.stderr)
            return 0
        if args.alerts_command == "ack":
            if not acknowledge(conn, args.key, by=args.by or getpass.getuser(), now=now):
                print(f"alerts ack: no alert {args.key!r} is firing (see `analytics-pipeline alerts list --open`)",
                      file=sys.stderr)
                return 1
            print(f"alert {args.key} acknowledged: no more reminders; its resolve will still be sent",
                  file=sys.stderr)
            return 0
        settings = current_settings()
        try:
            rules = load_rules(settings.alert_rules_file)
        except RulesFileError as error:
            print(f"alerts evaluate: {error}", file=sys.stderr)
            return 2
        routes = Routes(pagerduty_routing_key=settings.pagerduty_routing_key,
                        pagerduty_events_url=settings.pagerduty_events_url, webhook_url=settings.alert_webhook_url)
        print(evaluate_and_dispatch(conn, rules, routes, now=now).describe())
    return 0


def cmd_trace(args) -> int:
    """``trace REQUEST_ID [--org ORG]``: every organization that has it, or ORG's only."""
    from analytics_pipeline.tracing.trace import describe, trace_request

    with connect_warehouse() as conn:
        trace = trace_request(conn, args.request_id, [args.org] if args.org else None)
    if args.json:
        print(json.dumps(trace.as_json(), indent=2))
    else:
        print("\n".join(describe(trace)))
    return 0 if trace.found else 1


def add_oncall_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``alerts`` and ``trace`` on the main parser's subcommands."""
    alerts = commands.add_parser("alerts", help="platform alerts: list, acknowledge, evaluate once")
    alert_commands = alerts.add_subparsers(dest="alerts_command", required=True)
    listing = alert_commands.add_parser("list", help="alerts, open ones first")
    listing.add_argument("--open", action="store_true", help="only firing and acknowledged alerts")
    listing.add_argument("--limit", type=int, default=50)
    ack = alert_commands.add_parser("ack", help="acknowledge a firing alert by its dedup key")
    ack.add_argument("key", metavar="KEY", help="the alert's dedup key (from `alerts list`)")
    ack.add_argument("--by", help="who acknowledges (default: $USER)")
    alert_commands.add_parser("evaluate", help="evaluate the rules once now and send the notifications due")
    alerts.set_defaults(func=cmd_alerts)

    trace = commands.add_parser("trace", help="trace a request id: source, outcome, event, rollup bucket, price")
    trace.add_argument("request_id", metavar="REQUEST_ID")
    trace.add_argument("--org", help="only this organization (default: every organization)")
    trace.add_argument("--json", action="store_true", help="print the trace as JSON")
    trace.set_defaults(func=cmd_trace)
