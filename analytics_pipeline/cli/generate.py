"""``analytics-pipeline generate``: synthetic usage logs written as objects, or sent through a
live path (``--send http|firehose|kinesis``); the demo generates its month with the same arguments."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, date, datetime, timedelta

from analytics_pipeline.cli.shared import parse_date, s3_client


def previous_month_start(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def add_generate_arguments(parser: argparse.ArgumentParser, *, start_default: date | None,
                           days_default: int | None) -> None:
    """The generator's arguments, shared by ``generate`` and ``demo``."""
    parser.add_argument("--start", type=parse_date, default=start_default, help="first UTC day (YYYY-MM-DD)")
    parser.add_argument("--days", type=int, default=days_default, help="number of days")
    parser.add_argument("--orgs", type=int, default=20, help="organizations")
    parser.add_argument("--models", type=int, default=6, help="models (from the shipped catalog)")
    parser.add_argument("--events-per-hour", type=int, default=1000, help="mean events per hour")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--duplicate-rate", type=float, default=0.0, help="extra re-delivered lines, a fraction")
    parser.add_argument("--malformed-rate", type=float, default=0.0, help="extra broken lines, a fraction")


def generate(args, logs_url: str):
    """Write the usage logs ``args`` describe to the store at ``logs_url``; the generation summary."""
    from analytics_pipeline.generator.usage_logs import generate_usage_logs
    from analytics_pipeline.storage.object_store import open_store

    store = open_store(logs_url, s3_client_factory=s3_client)
    return generate_usage_logs(
        lambda key, data: store.write(key, data, content_type="application/gzip"),
        start=args.start, days=args.days, orgs=args.orgs, models=args.models,
        events_per_hour=args.events_per_hour, seed=args.seed, duplicate_rate=args.duplicate_rate,
        malformed_rate=args.malformed_rate, progress=sys.stderr.isatty(),
    )


def _send_generated(args) -> int:
    """Generate into a scratch directory, then send every line through a live path."""
    import os
    import tempfile

    import httpx

    from analytics_pipeline.generator import send
    from analytics_pipeline.ingestion.formats import read_log_lines
    from analytics_pipeline.storage.object_store import LocalDirectoryStore

    if args.send == "kinesis" and not args.stream:
        print("generate --send kinesis: name the stream (--stream NAME)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="analytics-send-") as scratch:
        generated = generate(args, scratch)
        store = LocalDirectoryStore(scratch)
        lines = (raw for obj in store.list()
                 for _number, raw, _reason, _detail in read_log_lines(store.stream(obj.key)))
        started = time.monotonic()
        if args.send == "kinesis":
            from analytics_pipeline.ingestion.kinesis import kinesis_client

            summary = send.send_kinesis(kinesis_client(args.endpoint_url), args.stream, lines)
        else:
            key = os.environ.get("INGEST_KEY")
            if not key:
                print("generate --send: set INGEST_KEY to an ingest key (api-keys create --ingest)", file=sys.stderr)
                return 2
            with httpx.Client(base_url=args.api_url, timeout=60) as client:
                summary = (send.send_http(client, key, lines) if args.send == "http"
                           else send.send_firehose(client, key, lines))
    print(f"sent {summary.events:,} lines of {generated.objects_written} generated objects in {summary.requests:,} "
          f"requests by {args.send} in {time.monotonic() - started:.1f} s"
          + (f": {summary.accepted:,} accepted, {summary.duplicates:,} duplicates, {summary.quarantined:,} "
             "quarantined" if args.send == "http" else ""))
    return 0


def cmd_generate(args) -> int:
    from analytics_pipeline.settings import current_settings

    if args.send:
        return _send_generated(args)
    logs_url = args.logs_url or current_settings().logs_url
    started = time.monotonic()
    summary = generate(args, logs_url)
    print(f"wrote {summary.objects_written} objects, {summary.lines_written} lines "
          f"({summary.valid_events} valid events, {summary.duplicate_lines} duplicates, "
          f"{summary.malformed_lines} malformed, {summary.late_events} late) to {logs_url} "
          f"in {time.monotonic() - started:.1f} s")
    return 0



def add_generate_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("generate", help="write synthetic usage logs")
    parser.add_argument("--logs-url", help="s3://bucket/prefix or a directory (default: ANALYTICS_LOGS_URL)")
    add_generate_arguments(parser, start_default=previous_month_start(datetime.now(UTC).date()), days_default=31)
    parser.add_argument("--send", choices=["http", "firehose", "kinesis"],
                        help="send the events through a live path, not as objects (ingest key: INGEST_KEY)")
    parser.add_argument("--api-url", default="http://127.0.0.1:8080", help="the API, for --send http|firehose")
    parser.add_argument("--stream", help="the Kinesis data stream, for --send kinesis")
    parser.add_argument("--endpoint-url", help="Kinesis endpoint, for --send kinesis (default: the AWS chain)")
    parser.set_defaults(func=cmd_generate)
