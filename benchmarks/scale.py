"""Benchmark: how the pipeline's cost grows with the month's events (issue 23, item 5).

    .venv/bin/python benchmarks/scale.py [--sizes 1000000,10000000] [--with-100m] [--orgs 1000]
                                         [--workers 2] [--work-mem 256MB] [--queries 50] [--clients 8]
                                         [--http-seconds 5]

For each size, on a throwaway embedded PostgreSQL of its own: the project's generator writes a month
(31 days from 2026-07-01, after the catalog's last price change) of usage logs as gzip JSON-lines objects
(not timed), then the whole pipeline runs over it in order, each step timed:

  ingest   the objects loaded as the raw_usage_events asset loads them (ingest_all, two connections);
  rollups  hourly then daily usage rollups, day by day on --workers connections;
  metrics  the metrics assets over the month (activity, adoption, health, forecasts, revenue, top
           customers, endpoint, agent and session metrics), one run each;
  exports  the monthly exports of every organization (benchmarks/rollups.py's loop of the asset);
  queries  the code path of the API's /usage for the largest organization over the month (usage_series
           + range_latency), --queries times: p50 / p95 in milliseconds, in process;
  http     the same organization over HTTP, as its users reach it: the API's /usage of the month per day
           and the portal's usage (30 days per day) and performance pages, each taking --clients
           keep-alive clients for --http-seconds (benchmarks/portal.py's loop; the API in a process of
           its own, one uvicorn worker, its clock at the month's last hour): client p95 in milliseconds.

It prints seconds and seconds per million events for each step and size, and for the largest two sizes the
ratio of their per-million costs (target: <= 1.2 from 10M to 100M, a flat per-event cost). 100M events are
run only with --with-100m (hours of work and ~30 GB of disk on the 2-core development machine).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from analytics_pipeline.api.keys import create_key  # noqa: E402
from analytics_pipeline.generator.usage_logs import generate_usage_logs  # noqa: E402
from analytics_pipeline.metrics.activity import replace_activity  # noqa: E402
from analytics_pipeline.metrics.adoption import replace_feature_adoption  # noqa: E402
from analytics_pipeline.metrics.forecast import replace_usage_forecasts  # noqa: E402
from analytics_pipeline.metrics.health import replace_customer_health  # noqa: E402
from analytics_pipeline.metrics.revenue import replace_monthly_revenue, replace_top_customers  # noqa: E402
from analytics_pipeline.metrics.sre import (  # noqa: E402
    replace_agent_metrics,
    replace_endpoint_metrics,
    replace_session_concurrency,
)
from analytics_pipeline.rollups.pricing import replace_model_prices  # noqa: E402
from analytics_pipeline.rollups.usage import (  # noqa: E402
    Granularity,
    range_latency,
    replace_usage_rollups_by_day,
    usage_series,
)
from analytics_pipeline.storage.object_store import LocalDirectoryStore  # noqa: E402
from analytics_pipeline.warehouse.database import connect  # noqa: E402
from benchmarks._common import load_average, log, print_table, throwaway_postgres, timed  # noqa: E402
from benchmarks.ingest import our_path  # noqa: E402
from benchmarks.metrics import CHURN_DAYS  # noqa: E402
from benchmarks.portal import api_at, run_phase, sign_in  # noqa: E402
from benchmarks.rollups import MONTH_START, catalog_models, largest_organization, monthly_exports  # noqa: E402

DAYS = 31
STEPS = ("ingest", "rollups", "metrics", "exports")
HTTP_PAGES = ("API /usage", "portal usage", "portal performance")
FLAT_TARGET = 1.2  # per-million cost of the largest size within 1.2x of the one before it


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,10000000", help="events per month, comma-separated")
    parser.add_argument("--with-100m", action="store_true", help="also run 100,000,000 events")
    parser.add_argument("--orgs", type=int, default=1000, help="organizations (default 1,000)")
    parser.add_argument("--workers", type=int, default=2, help="rollup connections at once (default 2)")
    parser.add_argument("--work-mem", default="256MB", help="work_mem of the rollup and metrics transactions")
    parser.add_argument("--queries", type=int, default=50, help="calls of the /usage code path (default 50)")
    parser.add_argument("--clients", type=int, default=8, help="HTTP clients per page (default 8)")
    parser.add_argument("--http-seconds", type=float, default=5.0, help="seconds per page over HTTP (default 5)")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()] + ([100_000_000] if args.with_100m else [])
    if not args.sizes or min(args.sizes) < DAYS * 24:
        parser.error(f"--sizes wants sizes of at least {DAYS * 24} events")
    return args


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run_size(events: int, args: argparse.Namespace) -> dict[str, float]:
    """The pipeline over one generated month of ``events`` events; seconds per step, and the query p50/p95."""
    start, end = MONTH_START, MONTH_START + timedelta(days=DAYS)
    now = end + timedelta(days=1)  # the validator's clock: every event of the month is in the past
    prices, _ = catalog_models()
    results: dict[str, float] = {}
    with throwaway_postgres() as pg:
        url = pg.create_database("scale")
        with connect(url) as conn, conn.transaction():
            replace_model_prices(conn, prices)
        store = LocalDirectoryStore(pg.scratch_dir("logs"))
        with timed(f"generate {events:,} events (not measured)"):
            generated = generate_usage_logs(lambda key, data: store.write(key, data), start=start.date(), days=DAYS,
                                            orgs=args.orgs, events_per_hour=max(1, round(events / (DAYS * 24))),
                                            seed=7)
        log(f"  {generated.valid_events:,} events in {len(list(store.list())):,} objects")

        measured, summary, _ = our_path(url, store, now)
        results["ingest"] = measured.seconds
        results["events"] = summary.accepted

        with timed("rollups, hourly then daily") as t:
            for granularity in (Granularity.HOURLY, Granularity.DAILY):
                replace_usage_rollups_by_day(lambda: connect(url), granularity, start, end, workers=args.workers,
                                             work_mem=args.work_mem)
        results["rollups"] = t.seconds

        work_mem = args.work_mem
        metrics = (
            lambda c: replace_activity(c, start, end, churn_days=CHURN_DAYS, work_mem=work_mem),
            lambda c: replace_feature_adoption(c, start, end, work_mem=work_mem),
            lambda c: replace_customer_health(c, start, end),
            lambda c: replace_usage_forecasts(c, start, end),
            lambda c: (replace_monthly_revenue(c, start.date()), replace_top_customers(c, start.date())),
            lambda c: replace_endpoint_metrics(c, start, end, work_mem=work_mem),
            lambda c: replace_agent_metrics(c, start, end, work_mem=work_mem),
            lambda c: replace_session_concurrency(c, start, end, work_mem=work_mem),
        )
        with timed("metrics over the month") as t:
            for step in metrics:
                with connect(url) as conn:
                    step(conn)
                    conn.commit()
        results["metrics"] = t.seconds

        with connect(url) as conn, timed("monthly exports") as t:
            monthly_exports(conn, LocalDirectoryStore(pg.scratch_dir("exports")), start, end, DAYS)
        results["exports"] = t.seconds

        organization, _ = largest_organization(url, start, end)
        seconds = []
        with connect(url) as conn:
            for _ in range(args.queries):
                began = time.perf_counter()
                usage_series(conn, Granularity.DAILY, organization, start, end)
                range_latency(conn, organization, start, end)
                conn.commit()
                seconds.append(time.perf_counter() - began)
        results["query p50"], results["query p95"] = percentile(seconds, 0.50), percentile(seconds, 0.95)
        log(f"  /usage code path, {organization}, {args.queries} calls: p50 {1000 * results['query p50']:.1f} ms, "
            f"p95 {1000 * results['query p95']:.1f} ms (load average {load_average()})")
        results.update(http_p95(url, pg.scratch_dir("api-home"), organization, start, end, args))
    return results


def http_p95(url: str, home: Path, organization: str, start: datetime, end: datetime,
             args: argparse.Namespace) -> dict[str, float]:
    """Client p95 (seconds) of each of HTTP_PAGES for ``organization``, the API's clock in the month's last hour."""
    now = end - timedelta(minutes=30)
    with connect(url, autocommit=True) as conn:
        _, key = create_key(conn, name="bench scale", organization_id=organization, finance=False, now=now)
    paths = {
        "API /usage": f"/analytics/v1/orgs/{organization}/usage?start={start:%Y-%m-%dT%H:%M:%SZ}"
                      f"&end={end:%Y-%m-%dT%H:%M:%SZ}&granularity=daily",
        "portal usage": f"/portal/orgs/{organization}/usage",
        "portal performance": f"/portal/orgs/{organization}/performance",
    }
    with api_at(home, now, {"ANALYTICS_DATABASE_URL": url}) as port:
        session = sign_in(f"http://127.0.0.1:{port}", key.token)
        phases = {name: run_phase(name, port, path, None if name.startswith("API") else session, args.clients,
                                  args.http_seconds, token=key.token if name.startswith("API") else None)
                  for name, path in paths.items()}
    bad = {name: phase.unexpected for name, phase in phases.items() if phase.unexpected}
    if bad:
        raise RuntimeError(f"answers other than 200: {bad}")
    return {name: phase.client_p95 / 1000 for name, phase in phases.items()}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log(f"scale benchmark: sizes {', '.join(f'{s:,}' for s in args.sizes)}; {args.orgs:,} organizations, {DAYS} days "
        f"from {MONTH_START:%Y-%m-%d}; {args.workers} rollup workers, work_mem {args.work_mem}")
    by_size = {size: run_size(size, args) for size in args.sizes}
    rows = []
    for size, r in by_size.items():
        millions = r["events"] / 1e6
        rows.append((f"{size:,}", f"{r['events']:,}",
                     *(f"{r[step]:.1f} ({r[step] / millions:.2f})" for step in STEPS),
                     f"{1000 * r['query p50']:.1f} / {1000 * r['query p95']:.1f}",
                     *(f"{1000 * r[page]:.1f}" for page in HTTP_PAGES)))
    log(f"\nresults (load average now {load_average()}): seconds per step, (seconds per million events)")
    print_table(("size", "events", *STEPS, "/usage p50 / p95 (ms)", *(f"{page} p95 (ms)" for page in HTTP_PAGES)),
                rows)
    if len(by_size) >= 2:
        (small, a), (large, b) = list(by_size.items())[-2:]
        ratios = {step: (b[step] / b["events"]) / (a[step] / a["events"]) for step in STEPS}
        log(f"per-event cost, {large:,} vs {small:,}: " + ", ".join(f"{s} {v:.2f}x" for s, v in ratios.items())
            + f" (target <= {FLAT_TARGET:g}x)")
        return 0 if all(v <= FLAT_TARGET for v in ratios.values()) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
