"""Benchmark: the metrics assets over the 10,000,000-event month of benchmarks/rollups.py.

    .venv/bin/python benchmarks/metrics.py [--events 10000000] [--orgs 1000] [--days 31] [--keep]
                                           [--workers 2] [--work-mem 256MB]

Starts a throwaway embedded PostgreSQL, fills ``analytics_events`` with the same synthetic
month as benchmarks/rollups.py (its FILL_SQL: endpoints, agents, tools, sessions and end users
included) and builds its hourly and daily rollups (not timed: the metrics' inputs). Then it
times the code path of each metrics asset, each on its own:

  (a) the whole month, as a single-run backfill computes it: the daily assets (activity,
      feature adoption, customer health, month-end forecasts), the monthly ones (revenue,
      top customers) and the hourly ones (endpoint, agent and session metrics);
  (b) the month's last day, as the daily run computes it once that day's events are in:
      first its hourly rollups (the baseline, in the same run), then each daily asset for the
      day, and the hourly SRE assets for its 24 hours.

Target: the daily assets of one day together within 2x that day's hourly rollup. The load
average is printed with each timing: on a shared machine other work inflates the figures.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

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
from analytics_pipeline.rollups.usage import Granularity, replace_usage_rollups, replace_usage_rollups_by_day  # noqa: E402
from analytics_pipeline.warehouse.database import connect  # noqa: E402
from benchmarks._common import load_average, log, print_server_settings, print_table, throwaway_postgres, timed  # noqa: E402
from benchmarks.rollups import MONTH_START, REFERENCE_EVENTS, catalog_models, fill_events  # noqa: E402

TARGET_RATIO = 2.0  # the daily assets of a day within 2x its hourly rollup
CHURN_DAYS = 14


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=REFERENCE_EVENTS, help="synthetic events (default 10,000,000)")
    parser.add_argument("--orgs", type=int, default=1000, help="organizations (default 1,000)")
    parser.add_argument("--days", type=int, default=31, help="days of events from 2026-07-01 (default 31)")
    parser.add_argument("--keep", action="store_true", help="leave the server running and its directory in place")
    parser.add_argument("--workers", type=int, default=2, help="connections the (untimed) rollups use at once")
    parser.add_argument("--day-only", action="store_true",
                        help="skip (a): build the month's activity untimed, then time (b) alone")
    parser.add_argument("--work-mem", default="256MB",
                        help="work_mem of each rollup and metrics transaction (ANALYTICS_ROLLUP_WORK_MEM)")
    args = parser.parse_args(argv)
    if args.events < 1 or args.orgs < 1 or not 2 <= args.days <= 31:
        parser.error("--events and --orgs must be positive, --days between 2 and 31")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    start, end = MONTH_START, MONTH_START + timedelta(days=args.days)
    last_day = end - timedelta(days=1)
    work_mem = args.work_mem
    prices, model_slots = catalog_models()
    log(f"benchmark: {args.events:,} events, {args.orgs:,} organizations, {args.days} days from {start:%Y-%m-%d}; "
        f"work_mem {work_mem}")
    month: dict[str, float] = {}
    day: dict[str, float] = {}

    with throwaway_postgres(keep=args.keep) as pg:
        url = pg.create_database("bench")
        with connect(url) as conn:
            print_server_settings(conn)
            with conn.transaction():
                replace_model_prices(conn, prices)
        fill_events(url, events=args.events, orgs=args.orgs, days=args.days, model_slots=model_slots)
        with connect(url, autocommit=True) as conn:
            users, sessions = conn.execute(
                "SELECT count(DISTINCT (organization_id, user_id)), count(DISTINCT (organization_id, session_id)) "
                "FROM analytics_events").fetchone()
        log(f"  {users:,} end users, {sessions:,} sessions")
        with timed("rollups, hourly and daily (the metrics' inputs, not part of the targets)"):
            for granularity in (Granularity.HOURLY, Granularity.DAILY):
                replace_usage_rollups_by_day(lambda: connect(url), granularity, start, end, workers=args.workers,
                                             work_mem=work_mem)

        log(f"\n(a) the whole month ({args.days} days) in one run per asset")
        steps = [
            ("daily_activity", lambda c: replace_activity(c, start, end, churn_days=CHURN_DAYS, work_mem=work_mem)),
            ("feature_adoption", lambda c: replace_feature_adoption(c, start, end, work_mem=work_mem)),
            ("customer_health", lambda c: replace_customer_health(c, start, end)),
            ("usage_forecasts", lambda c: replace_usage_forecasts(c, start, end)),
            ("monthly_revenue + top_customers", lambda c: (replace_monthly_revenue(c, start.date()),
                                                           replace_top_customers(c, start.date()))),
            ("endpoint_hourly_metrics", lambda c: replace_endpoint_metrics(c, start, end, work_mem=work_mem)),
            ("agent_hourly_metrics", lambda c: replace_agent_metrics(c, start, end, work_mem=work_mem)),
            ("session_concurrency", lambda c: replace_session_concurrency(c, start, end, work_mem=work_mem)),
        ]
        for name, step in steps[:1] if args.day_only else steps:
            with connect(url) as conn, timed(name) as t:
                step(conn)
            month[name] = t.seconds

        log(f"\n(b) the last day, {last_day:%Y-%m-%d}: its hourly rollups, then the metrics of the day")
        day_end = last_day + timedelta(days=1)
        with connect(url) as conn, timed("hourly_usage_rollups of the day (the baseline)") as t:
            replace_usage_rollups(conn, Granularity.HOURLY, last_day, day_end, work_mem=work_mem)
        baseline = t.seconds
        with connect(url) as conn:
            replace_usage_rollups(conn, Granularity.DAILY, last_day, day_end, work_mem=work_mem)
        daily_steps = [
            ("daily_activity", lambda c: replace_activity(c, last_day, day_end, churn_days=CHURN_DAYS,
                                                          work_mem=work_mem)),
            ("feature_adoption", lambda c: replace_feature_adoption(c, last_day, day_end, work_mem=work_mem)),
            ("customer_health", lambda c: replace_customer_health(c, last_day, day_end)),
            ("usage_forecasts", lambda c: replace_usage_forecasts(c, last_day, day_end)),
        ]
        hourly_steps = [
            ("endpoint_hourly_metrics", lambda c: replace_endpoint_metrics(c, last_day, day_end, work_mem=work_mem)),
            ("agent_hourly_metrics", lambda c: replace_agent_metrics(c, last_day, day_end, work_mem=work_mem)),
            ("session_concurrency", lambda c: replace_session_concurrency(c, last_day, day_end, work_mem=work_mem)),
        ]
        for name, step in daily_steps + hourly_steps:
            with connect(url) as conn, timed(f"{name}, one day") as t:
                step(conn)
            day[name] = t.seconds
        with connect(url) as conn, timed("daily_activity, a mid-month day restated (refreshes 30 days after it)") as t:
            middle = start + timedelta(days=args.days // 2)
            replace_activity(conn, middle, middle + timedelta(days=1), churn_days=CHURN_DAYS, work_mem=work_mem)
        restated = t.seconds

    daily_names = [name for name, _ in daily_steps]
    daily_total = sum(day[name] for name in daily_names)
    sre_total = sum(day[name] for name, _ in hourly_steps)
    ratio = daily_total / baseline
    def month_of(names) -> str:
        return f"{sum(month[n] for n in names):.2f}" if all(n in month for n in names) else ""

    rows = [(name, f"{day[name]:.2f}" if name in day else "", month_of([name])) for name in
            dict.fromkeys([*month, *day])]
    rows += [
        ("daily assets of the day, together", f"{daily_total:.2f}", month_of(daily_names)),
        ("hourly SRE assets of the day's 24 hours, together", f"{sre_total:.2f}",
         month_of([n for n, _ in hourly_steps])),
        ("hourly_usage_rollups of the day (baseline)", f"{baseline:.2f}", ""),
        ("daily_activity, a mid-month day restated", f"{restated:.2f}", ""),
    ]
    log(f"\nresults: {args.events:,} events, {args.orgs:,} organizations, {args.days} days; "
        f"load average now {load_average()}")
    print_table(("asset", "one day (s)", "month (s)"), rows)
    verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
    log(f"daily assets of one day / its hourly rollup: {ratio:.2f}x (target <= {TARGET_RATIO:g}x): {verdict}; "
        f"hourly SRE assets of the day / the hourly rollup: {sre_total / baseline:.2f}x")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
