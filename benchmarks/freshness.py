"""From a new log object to a visible rollup, under the Dagster daemon.

    .venv/bin/python benchmarks/freshness.py [--objects 30] [--every 10] [--events 2000] [--keep]

Starts the daemon (``dagster-daemon run``, the repo's dagster.yaml and workspace.yaml, Dagster's
storage on PostgreSQL) on a throwaway embedded PostgreSQL with the sensors and schedules as
shipped, waits for the price catalog to load, then drops ``--objects`` gzip log objects of
``--events`` events each into the local logs store, one every ``--every`` seconds, in the current
delivery hour. For each object it measures the time from its write until every event of it
counts in ``analytics_hourly_rollups`` (the hours' rollup requests reach what the ingest ledger
says the objects ingested so far hold), and, from the runs in Dagster's storage, the parts:
sensor tick (write to the ingest run's creation), launch (creation to start: queue and process
start), load (the ingest run), restatement (ingest run end to the rollup run's end).
Target: p95 under 90 s with the sensors' default intervals.
"""

from __future__ import annotations

import argparse
import gzip
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analytics_pipeline.storage.object_store import LocalDirectoryStore  # noqa: E402
from analytics_pipeline.warehouse.database import connect  # noqa: E402
from benchmarks._common import load_average, log, pipeline_environment, print_table, throwaway_postgres  # noqa: E402

TIMEOUT = 600


@dataclass
class Dropped:
    key: str
    written: float
    events: int
    visible: float | None = None
    parts: dict[str, float] = field(default_factory=dict)


def log_object(events: int, now: datetime) -> bytes:
    lines = [orjson.dumps({"timestamp": (now - timedelta(seconds=i % 50)).isoformat(timespec="milliseconds"),
                           "customer_id": f"org-{i % 7}", "request_id": f"req-{uuid.uuid4().hex}",
                           "endpoint": "/v1/chat/completions", "method": "POST", "status_code": 200,
                           "duration_ms": 100 + i % 400, "tokens_input": 100 + i % 50, "tokens_output": 20,
                           "model_id": "gpt-4o-mini"}) for i in range(events)]
    return gzip.compress(b"\n".join(lines) + b"\n", mtime=0)


VISIBLE_SQL = """
-- Is every event of object %(key)s counted by the hourly rollups? For each of its event hours, the
-- rollups must count at least the events of the objects ingested up to it.
SELECT o.object_id IS NOT NULL
       AND NOT EXISTS (
           SELECT 1 FROM analytics_ingested_event_hours AS mine
           WHERE mine.object_id = o.object_id
             AND coalesce((SELECT sum(request_count) FROM analytics_hourly_rollups r
                           WHERE r.bucket_start = mine.event_hour), 0)
                 < (SELECT sum(h.events) FROM analytics_ingested_event_hours h
                    JOIN analytics_ingested_objects x USING (object_id)
                    WHERE h.event_hour = mine.event_hour AND x.ingested_at <= o.ingested_at))
FROM (SELECT 1) AS one
LEFT JOIN analytics_ingested_objects AS o ON o.object_key = %(key)s AND o.status = 'loaded'
"""


def run_parts(instance, dropped: list[Dropped]) -> None:
    """Fill each object's parts from the runs: its ingest run, and the first rollup run after it."""
    import dagster as dg

    records = instance.get_run_records(limit=5000, ascending=True)
    ingest, rollups = [], []
    for record in records:
        run = record.dagster_run
        if run.job_name == "raw_usage_events_job":
            ingest.append(record)
        elif run.job_name == "hourly_rollups_job":
            rollups.append(record)

    def keys_of(run) -> list[str]:
        return run.run_config.get("ops", {}).get("raw_usage_events", {}).get("config", {}).get("object_keys", [])

    for item in dropped:
        mine = next((r for r in ingest if item.key in keys_of(r.dagster_run)), None)
        if mine is None or mine.start_time is None or mine.end_time is None:
            continue
        item.parts["sensor tick"] = mine.create_timestamp.timestamp() - item.written
        item.parts["launch"] = mine.start_time - mine.create_timestamp.timestamp()
        item.parts["load"] = mine.end_time - mine.start_time
        after = next((r for r in rollups if r.create_timestamp.timestamp() >= mine.end_time
                      and r.dagster_run.status == dg.DagsterRunStatus.SUCCESS and r.end_time), None)
        if after is not None:
            item.parts["restatement"] = after.end_time - mine.end_time


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=30)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between two objects")
    parser.add_argument("--events", type=int, default=2000, help="events per object")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    with throwaway_postgres(keep=args.keep) as pg:
        store = LocalDirectoryStore(pg.scratch_dir("logs"))
        env = pipeline_environment(pg, "daemon", store.root)
        warehouse = env["ANALYTICS_DATABASE_URL"]
        command = [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", str(REPO / "workspace.yaml")]
        daemon_log = (pg.root / "daemon.log").open("w")
        daemon = subprocess.Popen(command, env=env, cwd=REPO, stdout=daemon_log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        try:
            started = time.time()
            with connect(warehouse, autocommit=True) as conn:
                while not conn.execute("SELECT EXISTS (SELECT FROM analytics_model_prices)").fetchone()[0]:
                    if daemon.poll() is not None:
                        raise SystemExit(f"the daemon exited ({daemon.returncode}): see {pg.root / 'daemon.log'}")
                    if time.time() - started > TIMEOUT:
                        raise SystemExit("the price catalog never loaded (is price_catalog_sensor running?)")
                    time.sleep(1)
                log(f"daemon up, price catalog loaded by its sensor after {time.time() - started:.1f} s")
                dropped: list[Dropped] = []
                next_drop = time.time()
                while len(dropped) < args.objects or any(d.visible is None for d in dropped):
                    now = time.time()
                    if len(dropped) < args.objects and now >= next_drop:
                        moment = datetime.now(UTC)
                        key = f"{moment:%Y/%m/%d/%H}/bench-{len(dropped):04d}.jsonl.gz"
                        store.write(key, log_object(args.events, moment))
                        dropped.append(Dropped(key, time.time(), args.events))
                        next_drop += args.every
                    for item in dropped:
                        if item.visible is None and conn.execute(VISIBLE_SQL, {"key": item.key}).fetchone()[0]:
                            item.visible = time.time()
                    if now - started > TIMEOUT + args.objects * args.every:
                        raise SystemExit(f"{sum(d.visible is None for d in dropped)} objects never became visible")
                    time.sleep(0.5)
            os.environ.update(DAGSTER_HOME=env["DAGSTER_HOME"], DAGSTER_PG_URL=env["DAGSTER_PG_URL"])
            import dagster as dg

            with dg.DagsterInstance.get() as instance:
                run_parts(instance, dropped)
        finally:
            os.killpg(daemon.pid, signal.SIGTERM)
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(daemon.pid, signal.SIGKILL)

    latencies = [d.visible - d.written for d in dropped]
    rows = [("object to visible rollup", f"{statistics.median(latencies):.1f}", f"{percentile(latencies, 0.95):.1f}",
             f"{max(latencies):.1f}")]
    for part in ("sensor tick", "launch", "load", "restatement"):
        values = [d.parts[part] for d in dropped if part in d.parts]
        if values:
            rows.append((f"  {part}", f"{statistics.median(values):.1f}", f"{percentile(values, 0.95):.1f}",
                         f"{max(values):.1f}"))
    log(f"\n{len(dropped)} objects of {args.events:,} events, one every {args.every:g} s; load average "
        f"{load_average()}")
    print_table(("seconds", "p50", "p95", "max"), rows)
    p95 = percentile(latencies, 0.95)
    log(f"target p95 < 90 s: {p95:.1f} s -> {'PASS' if p95 < 90 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
