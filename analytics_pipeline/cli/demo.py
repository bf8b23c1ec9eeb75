"""``analytics-pipeline demo``: a month of synthetic data (usage logs, FOCUS costs, CI runs, metric
streams) run through the whole pipeline, its summary printed; then the current month up to now,
so that freshness and the status page are green after it."""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from analytics_pipeline.cli.generate import add_generate_arguments, generate, previous_month_start
from analytics_pipeline.cli.services import free_port, prepare_dagster_home, start_api_process
from analytics_pipeline.cli.shared import connect_warehouse, s3_client, warehouse_url
from analytics_pipeline.settings import environment_for, is_set, load_settings

if TYPE_CHECKING:
    from analytics_pipeline.generator.send import SendSummary

EXAMPLE_BUDGETS = Path(__file__).resolve().parents[1] / "costs" / "budgets.example.json"


def _days_in_month(start: date) -> int:
    return ((start.replace(day=28) + timedelta(days=4)).replace(day=1) - start).days


def _generate_costs_and_ci_runs(args, settings, usage_summary):
    """Synthetic FOCUS costs matching the generated usage, and CI run files, for the same days."""
    from analytics_pipeline.generator.ci_runs import generate_ci_runs
    from analytics_pipeline.generator.focus_costs import generate_focus_costs
    from analytics_pipeline.storage.object_store import open_store

    focus = open_store(settings.focus_costs_url, s3_client_factory=s3_client)
    costs = generate_focus_costs(lambda key, data: focus.write(key, data, content_type="application/gzip"),
                                 start=args.start, days=args.days, usage_by_org=usage_summary.totals_by_org,
                                 seed=args.seed)
    builds = open_store(settings.build_metrics_url, s3_client_factory=s3_client)
    ci_runs = generate_ci_runs(lambda key, data: builds.write(key, data, content_type="application/json"),
                               start=args.start, days=args.days, seed=args.seed,
                               regression_at=args.start + timedelta(days=max(args.days - 6, 0)),
                               duplicate_rate=0.01, invalid_rate=0.01)
    return costs, ci_runs


def cmd_demo(args) -> int:
    month_start = args.start.replace(day=1)
    # The partitions start where the demo's data starts (unless set to an earlier month), set before
    # the definitions load: the UI then shows the month filled, not a sliver of partitions since 2025.
    if not is_set("partitions_start") or load_settings().partitions_start > month_start:
        os.environ.update(environment_for(partitions_start=month_start))
    # And the example budgets (the default demo's tenants), unless budgets are configured: the
    # budget check then judges every day of the month instead of being skipped.
    if not is_set("budgets_file"):
        os.environ.update(environment_for(budgets_file=EXAMPLE_BUDGETS))

    import dagster as dg

    from analytics_pipeline.definitions import resources_from_settings
    from analytics_pipeline.defs.runner import materialize_window
    from analytics_pipeline.settings import current_settings

    settings = current_settings()
    args.start, args.days = month_start, _days_in_month(month_start)
    print(f"analytics home: {settings.home}")
    started = time.monotonic()
    generated = generate(args, settings.logs_url)
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

    store = open_store(settings.logs_url, s3_client_factory=s3_client)
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
    with connect(warehouse_url(settings)) as conn:
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
    import httpx
    import orjson

    from analytics_pipeline.api.keys import create_key
    from analytics_pipeline.warehouse.database import connect

    started = time.monotonic()
    now = datetime.now(UTC)
    lines = demo_live_lines(now, orgs=args.orgs, models=args.models, seed=args.seed)
    organization = orjson.loads(lines[0])["customer_id"]
    url = warehouse_url(settings)
    with connect(url, autocommit=True) as conn:
        _key, ingest = create_key(conn, name="demo live path", organization_id=None, finance=False, now=now,
                                  ingest=True)
        _key, reader = create_key(conn, name="demo live usage", organization_id=organization, finance=False, now=now)
    port = free_port()
    api = start_api_process(port, env={**os.environ, **environment_for(database_url=url)})
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
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
    with connect(warehouse_url(settings), autocommit=True) as conn:
        organizations, models = load_directory(conn, read_directory_file(path), source=str(path))
    print(f"directory: {organizations} organizations and {models} models named ({path})")


def _print_summary(settings, month_start: datetime) -> None:
    from analytics_pipeline.build_metrics.loader import run_file_totals
    from analytics_pipeline.build_metrics.regression import RegressionPolicy, compare_recent_durations
    from analytics_pipeline.costs.summary import cost_summary
    from analytics_pipeline.directory.names import organization_names
    from analytics_pipeline.ingestion.loader import USAGE_LOGS_SOURCE
    from analytics_pipeline.ingestion.totals import ingest_totals
    from analytics_pipeline.metrics.headlines import month_headlines
    from analytics_pipeline.rollups.usage import Granularity, rollup_totals
    from analytics_pipeline.storage.object_store import open_store
    from analytics_pipeline.warehouse.database import connect, resolve_database_url

    month_end = (month_start + timedelta(days=32)).replace(day=1)
    with connect(resolve_database_url(settings.database_url, settings.embedded_pgdata)) as conn:
        ingest = ingest_totals(conn, USAGE_LOGS_SOURCE, month_start, month_end)
        totals = rollup_totals(conn, Granularity.DAILY, month_start, month_end)
        costs = cost_summary(conn, month_start, month_end)
        headlines = month_headlines(conn, month_start.date())
        names = organization_names(conn, [*(org for org, *_ in headlines.least_healthy),
                                          *(c.organization_id for c in headlines.top_by_revenue)])
        ci = run_file_totals(conn, month_start.date(), month_end.date())
        comparisons = compare_recent_durations(conn, RegressionPolicy(), month_end.date())
        offenders = [c.describe() for c in comparisons if c.offender]
    exports = open_store(settings.exports_url, s3_client_factory=s3_client)
    files = list(exports.list(f"monthly/{month_start:%Y-%m}/"))
    _print_totals(month_start, ingest, totals)
    print(f"export files written    {len(files):>12,}   under {exports.url.rstrip('/')}/monthly/{month_start:%Y-%m}/")
    _print_costs(costs)
    _print_headlines(headlines, names)
    print(f"CI run files            {ci.files:>12,}   ({ci.runs:,} runs, {ci.quarantined} quarantined)")
    for offender in offenders:
        print(f"build regression: {offender}")


def _print_totals(month_start: datetime, ingest, totals) -> None:
    """What became of the month's input, and its usage totals."""
    from analytics_pipeline.money import format_money

    print(f"\n=== {month_start:%B %Y} ===")
    print(f"log objects loaded      {ingest.objects_loaded:>12,}   (failed: {ingest.objects_failed})")
    print(f"lines read              {ingest.lines_read:>12,}")
    print(f"  events accepted       {ingest.accepted:>12,}")
    print(f"  duplicates            {ingest.duplicates:>12,}")
    print(f"  quarantined           {ingest.quarantined:>12,}")
    print(f"organizations           {totals.organizations:>12,}")
    print(f"requests                {totals.request_count:>12,}")
    print(f"tokens                  {totals.tokens_total:>12,}")
    print(f"errors                  {totals.error_count:>12,}")
    print(f"total cost (USD)        {format_money(totals.cost_total):>12}")


def _print_costs(costs) -> None:
    """Infrastructure cost, what of it was attributed, and the margin."""
    from analytics_pipeline.money import format_money

    print(f"infrastructure cost     {format_money(costs.infrastructure or 0):>12}   "
          f"production {format_money(costs.production or 0)}, attributed to tenants: "
          f"{format_money(costs.attributed or 0)} (staging and untagged: never)")
    print(f"margin                  {format_money(costs.margin or 0):>12}")


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




def demo_metric_streams(args, settings) -> None:
    """The demo's CloudWatch Metric Streams objects for its days (an incident hour planted on its last
    day), loaded as metric_stream_sensor loads them (the demo runs no sensors)."""
    from analytics_pipeline.generator.metric_streams import generate_metric_streams
    from analytics_pipeline.storage.object_store import open_store
    from analytics_pipeline.system_health.loader import load_object

    store = open_store(settings.metric_streams_url, s3_client_factory=s3_client)
    last_day = args.start + timedelta(days=args.days - 1)
    written = generate_metric_streams(lambda key, data: store.write(key, data, content_type="application/gzip"),
                                      start=args.start, days=args.days, seed=args.seed,
                                      incident_at=datetime(last_day.year, last_day.month, last_day.day, 14, tzinfo=UTC))
    now = datetime.now(UTC)
    with connect_warehouse() as conn:
        loaded = [load_object(conn, store, obj, now=now) for obj in store.list("")]
    print(f"generated and loaded {written.objects_written:,} CloudWatch metric-stream objects "
          f"({sum(o.datapoints for o in loaded):,} datapoints; an incident hour planted at {last_day} 14:00 UTC)")


def add_oncall_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``alerts`` and ``trace`` on the main parser's subcommands."""


def add_demo_command(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser("demo", help="generate a month of data and run the whole pipeline on it")
    add_generate_arguments(demo, start_default=previous_month_start(datetime.now(UTC).date()), days_default=None)
    # The demo's month carries a little bad input, so the summary shows every outcome: 0.02 % broken
    # lines (with the late events quarantined, ~0.25 quarantined lines an hour of ~700), so an hour
    # reaches the quarantine check's 0.5 % warning (4 lines) about once in 8,000 hours.
    demo.set_defaults(func=cmd_demo, events_per_hour=700, duplicate_rate=0.01, malformed_rate=0.0002)
