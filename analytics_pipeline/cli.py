"""``analytics-pipeline``: the command line of the project.

    analytics-pipeline demo         generate a month of data and run the whole pipeline on it
    analytics-pipeline ui           the Dagster UI on the same data (embedded PostgreSQL)
    analytics-pipeline generate     write synthetic usage logs (--send http|firehose|kinesis: through a live path)
    analytics-pipeline export       request an ad hoc export (--org --start --end [--wait]), or --list jobs
    analytics-pipeline api          the export API (FastAPI on uvicorn)
    analytics-pipeline api-keys     create, list and revoke API keys of the export API
    analytics-pipeline orgs list    organizations: id, display name, plan, created (the directory)
    analytics-pipeline directory load FILE   display names of organizations and models (JSON or TOML)
    analytics-pipeline consume --stream NAME   load a Kinesis data stream continuously (--status: its shards)
    analytics-pipeline db upgrade   apply migrations;  db stop: stop the embedded server;  db url
    analytics-pipeline storage create-buckets [BUCKET ...]   the bucket of every s3:// store, and these
    analytics-pipeline alerts       platform alerts: list [--open], ack KEY, evaluate
    analytics-pipeline trace        REQUEST_ID [--org ORG]: where a request came from and what became of it
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from analytics_pipeline.cli_oncall import add_oncall_commands, demo_metric_streams

if TYPE_CHECKING:
    from analytics_pipeline.generator.send import SendSummary


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _previous_month_start(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def _days_in_month(start: date) -> int:
    return ((start.replace(day=28) + timedelta(days=4)).replace(day=1) - start).days


def _add_generate_arguments(parser: argparse.ArgumentParser, *, start_default: date | None,
                            days_default: int | None) -> None:
    parser.add_argument("--start", type=_parse_date, default=start_default, help="first UTC day (YYYY-MM-DD)")
    parser.add_argument("--days", type=int, default=days_default, help="number of days")
    parser.add_argument("--orgs", type=int, default=20, help="organizations")
    parser.add_argument("--models", type=int, default=6, help="models (from the shipped catalog)")
    parser.add_argument("--events-per-hour", type=int, default=1000, help="mean events per hour")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--duplicate-rate", type=float, default=0.0, help="extra re-delivered lines, a fraction")
    parser.add_argument("--malformed-rate", type=float, default=0.0, help="extra broken lines, a fraction")


def _generate(args, logs_url: str):
    from analytics_pipeline.generator.usage_logs import generate_usage_logs
    from analytics_pipeline.storage.object_store import open_store

    store = open_store(logs_url, s3_client_factory=_s3_client)
    return generate_usage_logs(
        lambda key, data: store.write(key, data, content_type="application/gzip"),
        start=args.start, days=args.days, orgs=args.orgs, models=args.models,
        events_per_hour=args.events_per_hour, seed=args.seed, duplicate_rate=args.duplicate_rate,
        malformed_rate=args.malformed_rate, progress=sys.stderr.isatty(),
    )


def _generate_costs_and_ci_runs(args, settings, usage_summary):
    """Synthetic FOCUS costs matching the generated usage, and CI run files, for the same days."""
    from analytics_pipeline.generator.ci_runs import generate_ci_runs
    from analytics_pipeline.generator.focus_costs import generate_focus_costs
    from analytics_pipeline.storage.object_store import open_store

    focus = open_store(settings.focus_costs_url, s3_client_factory=_s3_client)
    costs = generate_focus_costs(lambda key, data: focus.write(key, data, content_type="application/gzip"),
                                 start=args.start, days=args.days, usage_by_org=usage_summary.totals_by_org,
                                 seed=args.seed)
    builds = open_store(settings.build_metrics_url, s3_client_factory=_s3_client)
    ci_runs = generate_ci_runs(lambda key, data: builds.write(key, data, content_type="application/json"),
                               start=args.start, days=args.days, seed=args.seed,
                               regression_at=args.start + timedelta(days=max(args.days - 6, 0)),
                               duplicate_rate=0.01, invalid_rate=0.01)
    return costs, ci_runs


def _s3_client():
    from dagster_aws.s3 import S3Resource

    return S3Resource(max_attempts=5).get_client()


REPO_DAGSTER_YAML = Path(__file__).resolve().parents[1] / "dagster.yaml"
EXAMPLE_BUDGETS = Path(__file__).resolve().parent / "costs" / "budgets.example.json"
POSTGRES_STORAGE_BLOCK = """
storage:
  postgres:
    postgres_url:
      env: DAGSTER_PG_URL
"""


def prepare_dagster_home(settings) -> Path:
    """Point DAGSTER_HOME at ``$ANALYTICS_HOME/dagster`` with the repo's dagster.yaml, its
    storage on PostgreSQL (``DAGSTER_PG_URL``: the embedded server's ``dagster`` database by
    default). Returns the directory; sets the environment of this process and its children."""
    from analytics_pipeline.warehouse.database import dagster_storage_url, ensure_database
    from analytics_pipeline.warehouse.embedded import ensure_embedded_postgres

    home = settings.home / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(REPO_DAGSTER_YAML.read_text() + POSTGRES_STORAGE_BLOCK)
    os.environ["DAGSTER_HOME"] = str(home)
    if not settings.dagster_pg_url:
        if settings.database_url:
            url = settings.database_url
        else:
            url = ensure_database(ensure_embedded_postgres(settings.embedded_pgdata), "dagster")
        os.environ["DAGSTER_PG_URL"] = dagster_storage_url(url)
    return home


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
        generated = _generate(args, scratch)
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
    summary = _generate(args, logs_url)
    print(f"wrote {summary.objects_written} objects, {summary.lines_written} lines "
          f"({summary.valid_events} valid events, {summary.duplicate_lines} duplicates, "
          f"{summary.malformed_lines} malformed, {summary.late_events} late) to {logs_url} "
          f"in {time.monotonic() - started:.1f} s")
    return 0


def cmd_demo(args) -> int:
    month_start = args.start.replace(day=1)
    # The partitions start where the demo's data starts (unless set to an earlier month), set before
    # the definitions load: the UI then shows the month filled, not a sliver of partitions since 2025.
    explicit = os.environ.get("ANALYTICS_PARTITIONS_START", "").strip()
    if not explicit or date.fromisoformat(explicit) > month_start:
        os.environ["ANALYTICS_PARTITIONS_START"] = month_start.isoformat()
    # And the example budgets (the default demo's tenants), unless budgets are configured: the
    # budget check then judges every day of the month instead of being skipped.
    if not os.environ.get("ANALYTICS_BUDGETS_FILE", "").strip():
        os.environ["ANALYTICS_BUDGETS_FILE"] = str(EXAMPLE_BUDGETS)

    import dagster as dg

    from analytics_pipeline.definitions import resources_from_settings
    from analytics_pipeline.defs.runner import materialize_window
    from analytics_pipeline.settings import current_settings

    settings = current_settings()
    args.start, args.days = month_start, _days_in_month(month_start)
    print(f"analytics home: {settings.home}")
    started = time.monotonic()
    generated = _generate(args, settings.logs_url)
    print(f"generated {generated.valid_events:,} events in {generated.objects_written:,} objects "
          f"({time.monotonic() - started:.1f} s)")
    costs, ci_runs = _generate_costs_and_ci_runs(args, settings, generated)
    print(f"generated {costs.total_cost:,.2f} USD of FOCUS infrastructure costs and {ci_runs.files_written:,} CI run "
          f"files (a build regression planted at commit {ci_runs.regression.commit_sha[:12]})")
    demo_metric_streams(args, settings)

    prepare_dagster_home(settings)
    started = time.monotonic()
    first_day = datetime(month_start.year, month_start.month, 1, tzinfo=UTC)
    with dg.DagsterInstance.get() as instance:
        materialize_window(first_day, first_day + timedelta(days=args.days), instance=instance,
                           resources=resources_from_settings(settings), log_level="INFO", launched_by="demo")
    print(f"pipeline ran in {time.monotonic() - started:.1f} s")
    _load_demo_directory(args, settings, month_start)
    _print_summary(settings, first_day)
    now = datetime.now(UTC)  # the month to date ends here, after the previous month has run: it stays fresh
    if month_start < now.date().replace(day=1):  # a demo of the current month is already up to date
        _demo_month_to_date(args, settings, now)
        # Not in a demo of the current month: its live events would join the month's totals, and
        # a second run would then print other totals.
        _demo_live_path(args, settings)
    print("\nOpen the Dagster UI on the same data (partitions from the demo's month, its budgets):\n"
          f"  ANALYTICS_PARTITIONS_START={settings.partitions_start} ANALYTICS_BUDGETS_FILE={settings.budgets_file} "
          "analytics-pipeline ui   (then http://127.0.0.1:3000)")
    return 0


#: What the month to date is loaded into: the price catalog, the events, and what freshness and the
#: status page read (the hourly rollups and the hourly SRE metrics). Its daily and monthly figures
#: are left to the schedules, as they would be in production (a month is exported once complete).
MONTH_TO_DATE_ASSETS = ("model_prices", "raw_usage_events", "hourly_usage_rollups", "endpoint_hourly_metrics",
                        "agent_hourly_metrics")


def month_to_date_seed(seed: int, month_start: date) -> int:
    """The event stream of the month to date: its own, from the seed and the month, so that
    generating it never moves a figure of the demo's previous month (drawn from ``seed``)."""
    return seed * 1_000_000 + month_start.year * 100 + month_start.month


def generate_and_load_month_to_date(write_object, now: datetime, *, orgs: int, models: int, events_per_hour: int,
                                    seed: int, duplicate_rate: float, malformed_rate: float, instance, resources):
    """Generate the usage logs of ``now``'s month from its first hour up to ``now`` (the same
    organizations as ``seed``'s, an event stream of their own) through ``write_object``, and
    materialize :data:`MONTH_TO_DATE_ASSETS` over its hours up to the current one, with the
    clock frozen at ``now``. Returns the generation summary and the runs' results."""
    import dagster as dg

    from analytics_pipeline.defs.resources import ClockResource
    from analytics_pipeline.defs.runner import materialize_window
    from analytics_pipeline.generator.usage_logs import generate_usage_logs

    first = now.date().replace(day=1)
    summary = generate_usage_logs(write_object, start=first, days=now.day, orgs=orgs, models=models,
                                  events_per_hour=events_per_hour, seed=seed, duplicate_rate=duplicate_rate,
                                  malformed_rate=malformed_rate, until=now,
                                  event_seed=month_to_date_seed(seed, first))
    current_hour = now.replace(minute=0, second=0, microsecond=0)
    results = materialize_window(datetime(first.year, first.month, 1, tzinfo=UTC), current_hour + timedelta(hours=1),
                                 instance=instance, resources={**resources, "clock": ClockResource(
                                     frozen_at=now.isoformat())},
                                 selection=dg.AssetSelection.assets(*MONTH_TO_DATE_ASSETS), log_level="INFO",
                                 launched_by="demo")
    return summary, results


def _demo_month_to_date(args, settings, now: datetime) -> None:
    """The current month up to now, so the freshness checks and the status page are green after
    the demo; then both freshness readings as of now."""
    import dagster as dg

    from analytics_pipeline.definitions import resources_from_settings
    from analytics_pipeline.defs.ingestion.assets import RAW_FRESHNESS
    from analytics_pipeline.defs.rollups.assets import HOURLY_FRESHNESS
    from analytics_pipeline.ingestion.freshness import raw_events_freshness
    from analytics_pipeline.rollups.freshness import hourly_rollups_freshness
    from analytics_pipeline.storage.object_store import open_store
    from analytics_pipeline.warehouse.database import connect

    store = open_store(settings.logs_url, s3_client_factory=_s3_client)
    started = time.monotonic()
    with dg.DagsterInstance.get() as instance:
        generated, _results = generate_and_load_month_to_date(
            lambda key, data: store.write(key, data, content_type="application/gzip"), now, orgs=args.orgs,
            models=args.models, events_per_hour=args.events_per_hour, seed=args.seed,
            duplicate_rate=args.duplicate_rate, malformed_rate=args.malformed_rate, instance=instance,
            resources=resources_from_settings(settings))
    print(f"\n=== {now:%B %Y} to date ===\n"
          f"generated and loaded {generated.valid_events:,} events up to {now:%Y-%m-%d %H:%M} UTC "
          f"(events, hourly rollups and SRE metrics; {time.monotonic() - started:.1f} s)")
    checked_at = datetime.now(UTC)  # as the freshness checks' schedule would, right after the demo
    with connect(_warehouse_url(settings)) as conn:
        readings = {"raw events": raw_events_freshness(conn, checked_at, RAW_FRESHNESS.warn_window.to_timedelta(),
                                                       RAW_FRESHNESS.fail_window.to_timedelta()),
                    "hourly rollups": hourly_rollups_freshness(conn, checked_at,
                                                               HOURLY_FRESHNESS.warn_window.to_timedelta(),
                                                               HOURLY_FRESHNESS.fail_window.to_timedelta())}
    print("freshness now: " + ", ".join(f"{what} {reading.state} ({reading.lag.total_seconds() / 60:.0f} min)"
                                        if reading.lag is not None else f"{what} {reading.state}"
                                        for what, reading in readings.items()))


#: The demo's live batch: the generated events of the hour before now, about this many.
DEMO_LIVE_EVENTS = 3000


def demo_live_lines(now: datetime, *, orgs: int, models: int, seed: int) -> list[bytes]:
    """The demo's live batch: the events of the hour before ``now`` of the demo's organizations
    (an event stream of their own, so neither month's figures move, and drawn afresh at each
    ``now``, so a demo run again sends new events, not duplicates), as JSON lines."""
    import tempfile

    import orjson

    from analytics_pipeline.generator.usage_logs import generate_usage_logs
    from analytics_pipeline.ingestion.formats import read_log_lines
    from analytics_pipeline.storage.object_store import LocalDirectoryStore

    since = now - timedelta(hours=1)
    with tempfile.TemporaryDirectory(prefix="analytics-demo-live-") as scratch:
        store = LocalDirectoryStore(scratch)
        first = since.date()
        generate_usage_logs(store.write, start=first, days=(now.date() - first).days + 1, orgs=orgs, models=models,
                            events_per_hour=DEMO_LIVE_EVENTS, seed=seed, until=now,
                            event_seed=month_to_date_seed(seed, now.date()) * 10**10 + int(now.timestamp()))
        return [raw for obj in store.list() for _n, raw, reason, _d in read_log_lines(store.stream(obj.key))
                if reason is None and datetime.fromisoformat(orjson.loads(raw)["timestamp"]) >= since]


@dataclass(frozen=True)
class LiveUsageShown:
    """What the demo's live step sent, and ``/usage`` of one organization before and after."""

    sent: SendSummary
    organization: str
    organization_events: int
    requests_before: int
    requests_after: int
    provisional_from: str | None
    visible_after_seconds: float


def send_and_read_live_usage(client, lines: list[bytes], now: datetime, ingest_token: str, reader_token: str,
                             organization: str, wait_seconds: float = 30.0) -> LiveUsageShown:
    """POST ``lines`` to ``/analytics/v1/events`` (an httpx client on the API) with the ingest key,
    then poll ``organization``'s hourly ``/usage`` over the hour before ``now``'s and that one until
    its requests grew by the organization's events (or ``wait_seconds`` pass)."""
    import orjson

    from analytics_pipeline.generator import send

    hour = now.replace(minute=0, second=0, microsecond=0)
    query = {"start": f"{hour - timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}",
             "end": f"{hour + timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}", "granularity": "hourly"}

    def usage() -> dict:
        return client.get(f"/analytics/v1/orgs/{organization}/usage", params=query,
                          headers={"Authorization": f"Bearer {reader_token}"}).raise_for_status().json()

    before = usage()["totals"]["requestCount"]
    started = time.monotonic()
    summary = send.send_http(client, ingest_token, lines)
    expected = sum(orjson.loads(line)["customer_id"] == organization for line in lines)
    while True:
        after = usage()
        if after["totals"]["requestCount"] - before >= expected or time.monotonic() - started > wait_seconds:
            return LiveUsageShown(summary, organization, expected, before, after["totals"]["requestCount"],
                                  after["provisionalFrom"], time.monotonic() - started)
        time.sleep(0.2)


def _demo_live_path(args, settings) -> None:
    """The live path after the month: the last hour's events POSTed to an API started for the
    purpose, with an ingest key, then read back from ``/usage`` with an organization's key,
    provisional (no daemon runs in the demo: the rollups do not restate them)."""
    import socket
    import subprocess

    import httpx
    import orjson

    from analytics_pipeline.api.keys import create_key
    from analytics_pipeline.warehouse.database import connect

    started = time.monotonic()
    now = datetime.now(UTC)
    lines = demo_live_lines(now, orgs=args.orgs, models=args.models, seed=args.seed)
    organization = orjson.loads(lines[0])["customer_id"]
    url = _warehouse_url(settings)
    with connect(url, autocommit=True) as conn:
        _key, ingest = create_key(conn, name="demo live path", organization_id=None, finance=False, now=now,
                                  ingest=True)
        _key, reader = create_key(conn, name="demo live usage", organization_id=organization, finance=False, now=now)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = subprocess.Popen([sys.executable, "-m", "analytics_pipeline.cli", "api", "--port", str(port)],
                           env={**os.environ, "ANALYTICS_DATABASE_URL": url}, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if api.poll() is not None or time.monotonic() - started > 60:
                    raise RuntimeError("demo: the API did not start")
                time.sleep(0.2)
            shown = send_and_read_live_usage(client, lines, now, ingest.token, reader.token, organization)
    finally:
        api.terminate()
        api.wait(timeout=30)
    sent = shown.sent
    print(f"\n=== the live path (events in seconds) ===\n"
          f"sent {sent.events:,} events of the last hour to POST /analytics/v1/events with an ingest key, "
          f"{sent.requests} batches: {sent.accepted:,} accepted, {sent.duplicates:,} duplicates, "
          f"{sent.quarantined:,} quarantined\n"
          f"/usage of {organization}, the last two hours: {shown.requests_before:,} -> {shown.requests_after:,} "
          f"requests ({shown.organization_events:,} of its events sent), {shown.visible_after_seconds:.1f} s after "
          f"sending began, provisional from {shown.provisional_from} (the hourly rollups restate them under the "
          f"daemon's live_ingestion_restatement_sensor; {time.monotonic() - started:.1f} s)")


def _load_demo_directory(args, settings, month_start: date) -> None:
    """The generated organizations' and the catalog models' names: written to the home, then loaded."""
    from analytics_pipeline.directory.names import load_directory, read_directory_file
    from analytics_pipeline.generator.directory import demo_directory, directory_bytes
    from analytics_pipeline.warehouse.database import connect

    path = settings.home / "directory.json"
    path.write_bytes(directory_bytes(demo_directory(args.orgs, args.seed, month_start)))
    with connect(_warehouse_url(settings), autocommit=True) as conn:
        organizations, models = load_directory(conn, read_directory_file(path), source=str(path))
    print(f"directory: {organizations} organizations and {models} models named ({path})")


def _print_summary(settings, month_start: datetime) -> None:
    from analytics_pipeline.build_metrics.loader import run_file_totals
    from analytics_pipeline.build_metrics.regression import RegressionPolicy, compare_recent_durations
    from analytics_pipeline.directory.names import organization_names
    from analytics_pipeline.ingestion.loader import USAGE_LOGS_SOURCE
    from analytics_pipeline.metrics.headlines import month_headlines
    from analytics_pipeline.money import format_money
    from analytics_pipeline.rollups.usage import Granularity, rollup_totals
    from analytics_pipeline.storage.object_store import open_store
    from analytics_pipeline.warehouse.database import connect, resolve_database_url
    from analytics_pipeline.warehouse.sql import load_sql

    month_end = (month_start + timedelta(days=32)).replace(day=1)
    with connect(resolve_database_url(settings.database_url, settings.embedded_pgdata)) as conn:
        ingest = conn.execute(load_sql("ingestion/ingest_totals"),
                              {"source": USAGE_LOGS_SOURCE, "range_start": month_start,
                               "range_end": month_end}).fetchone()
        totals = rollup_totals(conn, Granularity.DAILY, month_start, month_end)
        infra, production, attributed, margin = conn.execute(
            load_sql("costs/demo_cost_summary"), {"range_start": month_start, "range_end": month_end}).fetchone()
        headlines = month_headlines(conn, month_start.date())
        names = organization_names(conn, [*(org for org, *_ in headlines.least_healthy),
                                          *(c.organization_id for c in headlines.top_by_revenue)])
        ci = run_file_totals(conn, month_start.date(), month_end.date())
        comparisons = compare_recent_durations(conn, RegressionPolicy(), month_end.date())
        offenders = [c.describe() for c in comparisons if c.offender]
    exports = open_store(settings.exports_url, s3_client_factory=_s3_client)
    files = list(exports.list(f"monthly/{month_start:%Y-%m}/"))
    objects_loaded, objects_failed, lines, accepted, duplicates, quarantined = ingest
    print(f"\n=== {month_start:%B %Y} ===")
    print(f"log objects loaded      {objects_loaded:>12,}   (failed: {objects_failed})")
    print(f"lines read              {lines:>12,}")
    print(f"  events accepted       {accepted:>12,}")
    print(f"  duplicates            {duplicates:>12,}")
    print(f"  quarantined           {quarantined:>12,}")
    print(f"organizations           {totals.organizations:>12,}")
    print(f"requests                {totals.request_count:>12,}")
    print(f"tokens                  {totals.tokens_total:>12,}")
    print(f"errors                  {totals.error_count:>12,}")
    print(f"total cost (USD)        {format_money(totals.cost_total):>12}")
    print(f"export files written    {len(files):>12,}   under {exports.url.rstrip('/')}/monthly/{month_start:%Y-%m}/")
    print(f"infrastructure cost     {format_money(infra or 0):>12}   "
          f"production {format_money(production or 0)}, attributed to tenants: {format_money(attributed or 0)} "
          f"(staging and untagged: never)")
    print(f"margin                  {format_money(margin or 0):>12}")
    _print_headlines(headlines, names)
    print(f"CI run files            {ci.files:>12,}   ({ci.runs:,} runs, {ci.quarantined} quarantined)")
    for offender in offenders:
        print(f"build regression: {offender}")


def _print_headlines(h, names: dict[str, str]) -> None:
    """The business headlines of the month (analytics_pipeline.metrics.headlines), names beside ids."""
    from decimal import Decimal

    from analytics_pipeline.money import format_money

    if h.last_day is None:
        return
    stickiness = f"{h.stickiness:.0%}" if h.stickiness is not None else "n/a"
    print(f"active customers        {h.month_active_customers:>12,}   (on {h.last_day:%b %d}: {h.active_customers}; "
          f"new this month: {h.month_new_customers}, churned: {h.month_churned_customers})")
    print(f"MAU                     {h.mau:>12,}   (DAU {h.dau:,} on {h.last_day:%b %d}, stickiness {stickiness})")
    for rank, (org, score, band, reason) in enumerate(h.least_healthy, 1):
        label = "least healthy customers" if rank == 1 else ""
        named = f"{names[org]} ({org})" if org in names else org
        print(f"{label:<24}{score:>12}   {named} ({band.replace('_', ' ')}{': ' + reason if reason else ''})")
    for customer in h.top_by_revenue:
        label = "top customers by revenue" if customer.rank == 1 else ""
        org = customer.organization_id
        print(f"{label:<24}{format_money(Decimal(str(customer.value))):>12}   #{customer.rank} {names.get(org, org)}"
              f"{f' ({org})' if org in names else ''}")
    f = h.forecast
    if f is not None:
        mape = (f" (backtest MAPE {f.seasonal_mape:.1%} vs run rate {f.run_rate_mape:.1%})"
                if f.seasonal_mape is not None else "")
        print(f"forecast for the month  {f.requests_forecast:>12,}   requests as of {f.as_of:%b %d}, "
              f"run rate {f.requests_run_rate:,}, actual {f.requests_actual:,}{mape}")
        print(f"                        {f.cost_forecast:>12,.2f}   USD as of {f.as_of:%b %d}, "
              f"run rate {f.cost_run_rate:,.2f}, actual {f.cost_actual:,.2f}")


def cmd_ui(args) -> int:
    from analytics_pipeline.settings import current_settings

    settings = current_settings()
    home = prepare_dagster_home(settings)
    workspace = Path(__file__).resolve().parents[1] / "workspace.yaml"
    print(f"DAGSTER_HOME={home}; storage on PostgreSQL; partitions from {settings.partitions_start} "
          "(ANALYTICS_PARTITIONS_START); Ctrl-C or SIGTERM to stop", flush=True)
    # The interpreter running this command has dagster installed, whether or not its venv is on PATH.
    # dagster dev runs in DAGSTER_HOME: started in the repo root, it would find the repo's dagster.yaml
    # beside it and warn that it "will not be used" (DAGSTER_HOME holds the copy that is, with storage).
    command = [sys.executable, "-m", "dagster", "dev", "-w", str(workspace), "-h", args.host, "-p", str(args.port)]
    return run_until_signalled(command, cwd=home)


#: How long a stopping ``dagster dev`` gets to stop its webserver, daemon and code servers.
STOP_TIMEOUT_SECONDS = 60.0


def run_until_signalled(command: list[str], *, cwd: Path, stop_timeout: float = STOP_TIMEOUT_SECONDS) -> int:
    """Run ``command`` as a service: in a process group of its own, stopped on SIGINT or SIGTERM.

    Either signal, from a terminal or any parent (a shell's background job starts with SIGINT
    ignored, a supervisor sends SIGTERM), becomes a SIGINT to the child's whole group: what
    ``dagster dev`` and its webserver, daemon and code servers shut down cleanly on (a SIGTERM
    would leave the child's children running). Then waits for the group's leader, kills the group
    after ``stop_timeout`` seconds, and returns 0 for a requested stop, else the child's code."""
    import signal
    import subprocess

    def restore_default_interrupt() -> None:  # an ignored SIGINT is inherited: the child would ignore ours
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    child = subprocess.Popen(command, cwd=cwd, start_new_session=True, preexec_fn=restore_default_interrupt)
    stop_requested = []

    def forward(signum, _frame) -> None:
        stop_requested.append(signum)
        try:
            os.killpg(child.pid, signal.SIGINT)
        except ProcessLookupError:
            pass

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    deadline = None
    try:
        while True:
            try:
                code = child.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if stop_requested and deadline is None:
                    deadline = time.monotonic() + stop_timeout
                if deadline is not None and time.monotonic() > deadline:
                    print(f"{command[0]} did not stop within {stop_timeout:g} s: killing it", file=sys.stderr)
                    os.killpg(child.pid, signal.SIGKILL)
                    deadline = float("inf")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    try:  # what the leader left behind (a code server it could not reach) goes with it
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return 0 if stop_requested else code


def _print_job(job: dict) -> None:
    for key, value in job.items():
        if value is not None:
            print(f"{key:>16}: {value.isoformat() if hasattr(value, 'isoformat') else value}")


def _warehouse_url(settings) -> str:
    from analytics_pipeline.warehouse.database import resolve_database_url
    from analytics_pipeline.warehouse.migrate import ensure_migrated

    url = resolve_database_url(settings.database_url, settings.embedded_pgdata)
    ensure_migrated(url)
    return url


NO_DAEMON_HINT = ("no Dagster daemon has picked up export job {job_id} within {seconds:g} s: it stays pending until "
                  "one runs export_request_sensor. Start one with `analytics-pipeline ui` (the UI runs a daemon) or "
                  "`dagster-daemon run` (with DAGSTER_HOME set as `analytics-pipeline ui` sets it), and the job "
                  "will run then.")


def cmd_export(args) -> int:
    """Creates the export job's row, as the export API does; export_request_sensor runs it."""
    from analytics_pipeline.exports.export_jobs import (
        ExportRequest,
        InvalidExportRequest,
        TooManyActiveJobs,
        create_job,
        list_jobs,
    )
    from analytics_pipeline.settings import current_settings
    from analytics_pipeline.warehouse.database import connect

    settings = current_settings()
    url = _warehouse_url(settings)
    if args.list:
        with connect(url) as conn:
            jobs = list_jobs(conn, status=args.status, organization_id=args.org)
        for job in jobs:
            print(f"{job['job_id']}  {job['status']:<9}  {job['organization_id']}  {job['granularity']:<7}  "
                  f"{job['range_start']:%Y-%m-%dT%H:%MZ} .. {job['range_end']:%Y-%m-%dT%H:%MZ}  "
                  f"rows={job['row_count']}  {job['checksum'] or job['error'] or ''}")
        print(f"{len(jobs)} export job(s)")
        return 0
    if not (args.org and args.start and args.end):
        print("export: --org, --start and --end are required (or --list)", file=sys.stderr)
        return 2
    try:
        request = ExportRequest.parse(organization_id=args.org, start=args.start, end=args.end,
                                      granularity=args.granularity, by_model=not args.across_models,
                                      initiated_by=args.initiated_by or os.environ.get("USER") or "cli")
    except InvalidExportRequest as error:
        print(f"export request rejected: {error}", file=sys.stderr)
        return 2
    with connect(url, autocommit=True) as conn:
        try:  # the export API's path: the same cap of pending and running jobs per organization
            create_job(conn, request, created_at=datetime.now(UTC), max_active=settings.api_max_active_jobs)
        except TooManyActiveJobs as error:
            print(f"export request rejected: {error}", file=sys.stderr)
            return 2
    print(f"export job {request.job_id} is pending; export_request_sensor runs it "
          f"(`analytics-pipeline export --list` shows it)", file=sys.stderr)
    if not args.wait:
        print(request.job_id)
        return 0
    deadline = time.monotonic() + args.timeout
    while True:
        with connect(url) as conn:
            [job] = list_jobs(conn, job_id=request.job_id)
        if job["status"] in ("succeeded", "failed", "expired"):
            _print_job(job)
            return 0 if job["status"] == "succeeded" else 1
        if time.monotonic() >= deadline:
            if job["status"] == "pending" and job["run_id"] is None:
                print(NO_DAEMON_HINT.format(job_id=request.job_id, seconds=args.timeout), file=sys.stderr)
            else:
                print(f"export job {request.job_id} is still {job['status']} after {args.timeout:g} s "
                      f"(run {job['run_id']}); `analytics-pipeline export --list` shows it later", file=sys.stderr)
            return 3
        time.sleep(args.poll_seconds)


def cmd_api(args) -> int:
    from analytics_pipeline.api.app import serve
    from analytics_pipeline.settings import current_settings

    serve(current_settings(), host=args.host, port=args.port, workers=args.workers)
    return 0


def cmd_api_keys(args) -> int:
    """API keys: ``create`` prints the key (shown once, only its hash is stored) on stdout, alone."""
    from analytics_pipeline.api.keys import create_key, list_keys, revoke_key
    from analytics_pipeline.settings import current_settings
    from analytics_pipeline.warehouse.database import connect

    url = _warehouse_url(current_settings())
    now = datetime.now(UTC)
    with connect(url, autocommit=True) as conn:
        if args.keys_command == "create":
            if bool(args.finance) + bool(args.org) + bool(args.ingest) != 1:
                print("api-keys create: give --org ORG, or --finance for a key that reads every organization, or "
                      "--ingest for a key that only sends events", file=sys.stderr)
                return 2
            try:
                key, new = create_key(conn, name=args.name, organization_id=args.org, finance=args.finance, now=now,
                                      expires_in=timedelta(days=args.expires_days) if args.expires_days else None,
                                      ingest=args.ingest)
            except ValueError as error:
                print(f"api-keys create: {error}", file=sys.stderr)
                return 2
            scope = ("every organization (finance)" if args.finance else
                     "sending events of any organization, reading nothing (ingest)" if args.ingest else
                     f"organization {args.org}")
            expiry = f"expires {key.expires_at:%Y-%m-%dT%H:%MZ}" if key.expires_at else "does not expire"
            print(f"key {key.key_id} ({key.name!r}) for {scope}, {expiry}; it is shown once, below:", file=sys.stderr)
            print(new.token)
        elif args.keys_command == "list":
            keys = list_keys(conn)
            for key in keys:
                state = "revoked" if key.revoked_at else "expired" if not key.usable_at(now) else "active"
                expiry = f"expires {key.expires_at:%Y-%m-%d}" if key.expires_at else "no expiry"
                print(f"{key.key_id}  {state:<7}  {key.scope:<12}  {key.organization_id or '*':<24}  "
                      f"created {key.created_at:%Y-%m-%d}  {expiry:<18}  {key.name}")
            print(f"{len(keys)} key(s)", file=sys.stderr)
        else:
            if not revoke_key(conn, args.key_id, now):
                print(f"api-keys revoke: there is no key {args.key_id}", file=sys.stderr)
                return 1
            print(f"key {args.key_id} revoked", file=sys.stderr)
    return 0


def cmd_orgs(args) -> int:
    """``orgs list``: every organization of the directory or with usage, by name (the id for ``--org``)."""
    from analytics_pipeline.directory.names import list_organizations
    from analytics_pipeline.settings import current_settings
    from analytics_pipeline.warehouse.database import connect

    with connect(_warehouse_url(current_settings()), autocommit=True) as conn:
        organizations = list_organizations(conn)
    for org in organizations:
        created = f"{org.created_at:%Y-%m-%d}" if org.created_at else "–"
        print(f"{org.entry_id:<36}  {org.display_name:<28}  {org.detail or '–':<14}  created {created}")
    print(f"{len(organizations)} organization(s)", file=sys.stderr)
    return 0


def cmd_directory(args) -> int:
    """``directory load FILE``: upsert the display names of a directory file."""
    from analytics_pipeline.directory.names import DirectoryFileError, load_directory, read_directory_file
    from analytics_pipeline.settings import current_settings
    from analytics_pipeline.warehouse.database import connect

    try:
        directory = read_directory_file(Path(args.file))
    except DirectoryFileError as error:
        print(f"directory load: {error}", file=sys.stderr)
        return 2
    with connect(_warehouse_url(current_settings()), autocommit=True) as conn:
        organizations, models = load_directory(conn, directory, source=str(args.file))
    print(f"directory: {organizations} organizations and {models} models loaded from {args.file}")
    return 0


def cmd_consume(args) -> int:
    """A Kinesis Data Streams consumer (long-running), or ``--status``: each shard's checkpoint,
    lease and lag."""
    import logging
    import signal
    import threading

    from analytics_pipeline.ingestion.contract import EventValidator
    from analytics_pipeline.ingestion.kinesis import (
        KinesisConsumer,
        kinesis_client,
        stream_consumers_alive,
        stream_status,
    )
    from analytics_pipeline.settings import current_settings
    from analytics_pipeline.warehouse.database import connect

    settings = current_settings()
    url = _warehouse_url(settings)
    if args.status:
        with connect(url, autocommit=True) as conn:
            shards = stream_status(conn, args.stream)
            alive = stream_consumers_alive(conn, args.stream)
        for shard in shards:
            lease = (f"{shard.lease_owner} until {shard.lease_expires_at:%H:%M:%S}" if shard.lease_live
                     else "free")
            state = "drained" if shard.drained else "open"
            print(f"{shard.shard_id}  {state:<7}  records {shard.records_loaded:>12,}  behind "
                  f"{shard.millis_behind_latest if shard.millis_behind_latest is not None else '?':>8} ms  "
                  f"lease {lease}  parents {','.join(shard.parent_shard_ids) or '-'}  "
                  f"checkpoint {shard.checkpoint_sequence or '-'}")
        print(f"{len(shards)} shard(s) of {args.stream}; {alive} consumer(s) alive", file=sys.stderr)
        return 0 if alive else 1  # the health check of a consumer's container
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with connect(url) as conn, connect(url, autocommit=True) as ddl_conn:
        consumer = KinesisConsumer(
            kinesis_client(args.endpoint_url, args.max_attempts), conn, ddl_conn, args.stream,
            validator_at=lambda now: EventValidator(now=now, retention_days=settings.raw_retention_days),
            owner=args.consumer_id, lease_seconds=args.lease_seconds, batch_records=args.batch_records,
            poll_seconds=args.poll_seconds)
        consumer.run(stop)
    return 0


def cmd_db(args) -> int:
    from analytics_pipeline.settings import current_settings
    from analytics_pipeline.warehouse.database import resolve_database_url
    from analytics_pipeline.warehouse.embedded import stop_embedded_postgres
    from analytics_pipeline.warehouse.migrate import current_revision, upgrade

    settings = current_settings()
    if args.db_command == "stop":
        if settings.database_url:
            print("ANALYTICS_DATABASE_URL is set: there is no embedded server to stop")
            return 0
        stopped = stop_embedded_postgres(settings.embedded_pgdata)
        print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
        return 0
    url = resolve_database_url(settings.database_url, settings.embedded_pgdata)
    if args.db_command == "upgrade":
        upgrade(url)
        print(f"warehouse at revision {current_revision(url)}")
    elif args.db_command == "url":
        print(url)
    return 0


def cmd_storage(args) -> int:
    from analytics_pipeline.settings import current_settings
    from analytics_pipeline.storage.object_store import ensure_buckets, s3_buckets_of

    settings = current_settings()
    stores = (settings.logs_url, settings.exports_url, settings.archive_url, settings.focus_costs_url,
              settings.build_metrics_url, settings.metric_streams_url)
    buckets = s3_buckets_of(stores) + list(args.buckets)
    if not buckets:
        print("no store is on S3 and no bucket was named: nothing to create")
        return 0
    created = set(ensure_buckets(_s3_client(), buckets))
    for bucket in dict.fromkeys(buckets):
        print(f"{bucket}: {'created' if bucket in created else 'exists'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="analytics-pipeline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="generate a month of data and run the whole pipeline on it")
    _add_generate_arguments(demo, start_default=_previous_month_start(datetime.now(UTC).date()), days_default=None)
    # The demo's month carries a little bad input, so the summary shows every outcome: 0.02 % broken
    # lines (with the late events quarantined, ~0.25 quarantined lines an hour of ~700), so an hour
    # reaches the quarantine check's 0.5 % warning (4 lines) about once in 8,000 hours.
    demo.set_defaults(func=cmd_demo, events_per_hour=700, duplicate_rate=0.01, malformed_rate=0.0002)

    generate = commands.add_parser("generate", help="write synthetic usage logs")
    generate.add_argument("--logs-url", help="s3://bucket/prefix or a directory (default: ANALYTICS_LOGS_URL)")
    _add_generate_arguments(generate, start_default=_previous_month_start(datetime.now(UTC).date()), days_default=31)
    generate.add_argument("--send", choices=["http", "firehose", "kinesis"],
                          help="send the events through a live path, not as objects (ingest key: INGEST_KEY)")
    generate.add_argument("--api-url", default="http://127.0.0.1:8080", help="the API, for --send http|firehose")
    generate.add_argument("--stream", help="the Kinesis data stream, for --send kinesis")
    generate.add_argument("--endpoint-url", help="Kinesis endpoint, for --send kinesis (default: the AWS chain)")
    generate.set_defaults(func=cmd_generate)

    ui = commands.add_parser("ui", help="start the Dagster UI (dagster dev) on the project's storage")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)

    export = commands.add_parser("export", help="request an ad hoc usage export, or list export jobs")
    export.add_argument("--org", help="organization id")
    export.add_argument("--start", help="range start, ISO 8601 (e.g. 2026-10-01T00:00:00Z)")
    export.add_argument("--end", help="range end (exclusive), at most 31 days after start")
    export.add_argument("--granularity", choices=["hourly", "daily", "monthly"], default="daily")
    export.add_argument("--across-models", action="store_true", help="one row per bucket, model_id empty")
    export.add_argument("--initiated-by", help="who asked (default: $USER)")
    export.add_argument("--list", action="store_true", help="list export jobs instead")
    export.add_argument("--status", choices=["pending", "running", "succeeded", "failed", "expired"])
    export.add_argument("--wait", action="store_true", help="wait until the job has run and print it")
    export.add_argument("--timeout", type=float, default=300.0, help="seconds --wait waits (default 300)")
    export.add_argument("--poll-seconds", type=float, default=2.0, help=argparse.SUPPRESS)
    export.set_defaults(func=cmd_export)

    api = commands.add_parser("api", help="run the export API (FastAPI on uvicorn)")
    api.add_argument("--host", default=None, help="default: ANALYTICS_API_HOST (127.0.0.1)")
    api.add_argument("--port", type=int, default=None, help="default: ANALYTICS_API_PORT (8080); the download "
                                                             "links follow it unless ANALYTICS_API_PUBLIC_URL is set")
    api.add_argument("--workers", type=int, default=1,
                     help="worker processes on the one port (default 1); 2 lets a loaded API use both cores")
    api.set_defaults(func=cmd_api)

    keys = commands.add_parser("api-keys", help="create, list or revoke API keys of the export API")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = key_commands.add_parser("create", help="create a key; prints it (once) on stdout")
    create.add_argument("--org", help="the organization the key reads")
    create.add_argument("--finance", action="store_true", help="a finance-wide key: reads every organization")
    create.add_argument("--ingest", action="store_true",
                        help="an ingest key: sends events of any organization (ingest API, Firehose), reads nothing")
    create.add_argument("--name", required=True, help="who holds it (the jobs' initiatedBy)")
    create.add_argument("--expires-days", type=int, help="days until it expires (default: never)")
    key_commands.add_parser("list", help="list keys (never their secrets)")
    revoke = key_commands.add_parser("revoke", help="revoke a key")
    revoke.add_argument("key_id", metavar="ID", help="the key's id (the part after ak_)")
    keys.set_defaults(func=cmd_api_keys)

    orgs = commands.add_parser("orgs", help="organizations of the directory and with usage")
    orgs.add_argument("orgs_command", choices=["list"])
    orgs.set_defaults(func=cmd_orgs)

    directory = commands.add_parser("directory", help="display names of organizations and models")
    directory.add_argument("directory_command", choices=["load"])
    directory.add_argument("file", metavar="FILE", help="a directory file, .json or .toml")
    directory.set_defaults(func=cmd_directory)

    consume = commands.add_parser("consume", help="load a Kinesis data stream continuously, exactly once")
    consume.add_argument("--stream", required=True, help="the Kinesis data stream's name")
    consume.add_argument("--status", action="store_true",
                         help="print each shard's checkpoint, lease and lag; exit 1 when no consumer is alive")
    consume.add_argument("--endpoint-url", help="Kinesis endpoint (default: the AWS chain, AWS_ENDPOINT_URL)")
    consume.add_argument("--max-attempts", type=int, default=10, help="boto3 attempts per call (default 10)")
    consume.add_argument("--consumer-id", help="this consumer's lease holder name (default host:pid)")
    consume.add_argument("--lease-seconds", type=float, default=30.0,
                         help="a dead consumer's shards are taken over after this long (default 30)")
    consume.add_argument("--batch-records", type=int, default=1000, help="records per GetRecords (default 1000)")
    consume.add_argument("--poll-seconds", type=float, default=1.0, help="pause when no shard had records")
    consume.set_defaults(func=cmd_consume)

    db = commands.add_parser("db", help="warehouse administration")
    db.add_argument("db_command", choices=["upgrade", "stop", "url"])
    db.set_defaults(func=cmd_db)

    storage = commands.add_parser("storage", help="object storage administration")
    storage_commands = storage.add_subparsers(dest="storage_command", required=True)
    create_buckets = storage_commands.add_parser(
        "create-buckets", help="create the bucket of every s3:// store the settings name, and BUCKET ...")
    create_buckets.add_argument("buckets", nargs="*", metavar="BUCKET", help="more buckets (e.g. Dagster's logs)")
    create_buckets.set_defaults(func=cmd_storage)
    add_oncall_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
