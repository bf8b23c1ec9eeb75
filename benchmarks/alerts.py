"""Alert latency: from the first bad event to PagerDuty's receiver getting the trigger.

    .venv/bin/python benchmarks/alerts.py [--trials 20] [--events-per-minute 2000] [--keep]

On a throwaway embedded PostgreSQL, with ``--events-per-minute`` healthy requests a minute in the
raw events (the window the rules read), each trial drops a burst of 5xx on an endpoint of its own
at a random moment between two sensor ticks, then runs the evaluation exactly as
``platform_alert_sensor`` does (:func:`evaluate_and_dispatch`) at each tick of the sensor's interval
(30 s) until a local HTTP receiver shaped like PagerDuty's Events API gets the trigger. The ticks
are simulated on the injected clock (the sensor's schedule), the work of each tick is real and
timed: latency = (the tick that fired - the first bad event) + that tick's own time until the
receiver's request. Printed for the shipped hold time beside the baseline of no hold time
(what the sensor interval alone costs), measured in the same run, with the evaluation's cost per
tick. The events are written straight to the raw events table: on the S3 path, add the ingestion
latency of ``benchmarks/freshness.py``; on the live path (when it lands) the events are in the
table within a second of the request.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analytics_pipeline.alerts.evaluation import evaluate_and_dispatch  # noqa: E402
from analytics_pipeline.alerts.routing import Routes  # noqa: E402
from analytics_pipeline.alerts.rules import load_rules, parse_rules  # noqa: E402
from analytics_pipeline.defs.alerts.platform import EVALUATION_INTERVAL_SECONDS  # noqa: E402
from analytics_pipeline.warehouse.database import connect  # noqa: E402
from benchmarks._common import load_average, log, print_table, throwaway_postgres  # noqa: E402

START = datetime(2026, 11, 3, 8, tzinfo=UTC)
#: Trials start this far apart on the simulated clock (longer than one trial takes: the clock only moves on).
TRIAL_SPACING_MINUTES = 3
SHIPPED_HOLD = load_rules().hold_seconds
COLUMNS = ("event_time", "organization_id", "request_id", "endpoint", "status_code", "duration_ms")


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        self.server.received.append((time.perf_counter(), body))
        self.send_response(202)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def insert(conn, rows) -> None:
    for day in {row[0].date() for row in rows}:
        conn.execute("SELECT analytics_ensure_event_partition(%s)", (day,))
    copy_sql = f"COPY analytics_events ({', '.join(COLUMNS)}, content_hash, object_id) FROM STDIN"
    with conn.cursor().copy(copy_sql) as copy:
        for row in rows:
            copy.write_row((*row, "h", 1))
    conn.commit()


def rules_with_hold(hold: int):
    return parse_rules(f"[evaluation]\nhold_seconds = {hold}\nwindow_minutes = 15\n"
                       "[[rules]]\nname = 'availability'\nkind = 'endpoint_availability'\nseverity = 'critical'\n")


def run_trials(conn, server, routes, *, hold: int, trials: int, first: datetime, rng: random.Random,
               label: str) -> tuple[list[float], list[float]]:
    interval = EVALUATION_INTERVAL_SECONDS
    rules = rules_with_hold(hold)
    latencies, tick_seconds = [], []
    for trial in range(trials):
        base = first + timedelta(minutes=TRIAL_SPACING_MINUTES * trial)
        endpoint = f"/v1/{label}-{trial}"
        bad_at = base + timedelta(seconds=rng.uniform(0, interval))
        insert(conn, [(bad_at + timedelta(milliseconds=50 * n), "org-bench", f"{label}-{trial}-{n}", endpoint, 503,
                       90.0) for n in range(200)])
        key = f"availability/critical/{endpoint}"
        tick = base + timedelta(seconds=interval)
        while True:
            started = time.perf_counter()
            evaluate_and_dispatch(conn, rules, routes, now=tick)
            tick_seconds.append(time.perf_counter() - started)
            arrived = [at for at, body in server.received if body.get("dedup_key") == key
                       and body.get("event_action") == "trigger"]
            if arrived:
                latencies.append((tick - bad_at).total_seconds() + (arrived[0] - started))
                break
            tick += timedelta(seconds=interval)
    return latencies, tick_seconds


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--events-per-minute", type=int, default=2000, help="healthy background traffic")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    routes = Routes(pagerduty_routing_key="bench",
                    pagerduty_events_url=f"http://127.0.0.1:{server.server_port}/v2/enqueue")
    rng = random.Random(args.seed)
    span_minutes = 2 * TRIAL_SPACING_MINUTES * args.trials + 5
    with throwaway_postgres(keep=args.keep) as pg:
        url = pg.create_database("bench_alerts")
        with connect(url) as conn:
            log(f"writing {args.events_per_minute:,} healthy requests a minute for {span_minutes} minutes ...")
            for minute in range(-15, span_minutes):
                at = START + timedelta(minutes=minute)
                step = 60.0 / args.events_per_minute
                insert(conn, [(at + timedelta(seconds=n * step), f"org-{n % 50}", f"ok-{minute}-{n}",
                               f"/v1/endpoint-{n % 6}", 200, 100.0 + n % 400) for n in range(args.events_per_minute)])
            log(f"{args.trials} trials per configuration (load average {load_average()})")
            baseline = run_trials(conn, server, routes, hold=0, trials=args.trials, first=START, rng=rng,
                                  label="nohold")
            shipped = run_trials(conn, server, routes, hold=SHIPPED_HOLD, trials=args.trials,
                                 first=START + timedelta(minutes=TRIAL_SPACING_MINUTES * args.trials), rng=rng,
                                 label="hold")
    server.shutdown()
    rows = []
    for name, (latencies, ticks) in (("no hold time (baseline)", baseline),
                                     (f"hold {SHIPPED_HOLD} s (shipped)", shipped)):
        rows.append((name, f"{EVALUATION_INTERVAL_SECONDS} s", f"{statistics.median(latencies):.1f} s",
                     f"{percentile(latencies, 0.95):.1f} s", f"{max(latencies):.1f} s",
                     f"{statistics.median(ticks) * 1000:.0f} ms", f"{percentile(ticks, 0.95) * 1000:.0f} ms"))
    print_table(("configuration", "sensor interval", "latency p50", "latency p95", "latency max", "tick p50",
                 "tick p95"), rows)
    log(f"window of {15 * args.events_per_minute:,} events read per tick; target: p95 under 60 s on the live path")
    return 0


if __name__ == "__main__":
    sys.exit(main())
