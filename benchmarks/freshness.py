"""From a new event to a visible rollup, under the Dagster daemon: the S3 path, and the live path beside it.

    .venv/bin/python benchmarks/freshness.py [--objects 30] [--batches 30] [--every 10] [--events 2000] [--keep]

Starts the daemon (``dagster-daemon run``, the repo's dagster.yaml and workspace.yaml, Dagster's
storage on PostgreSQL) on a throwaway embedded PostgreSQL with the sensors and schedules as
shipped, and the API (``analytics-pipeline api``) on the same warehouse, waits for the price
catalog to load, then measures two paths one after the other in the same run:

(1) the S3 path, the baseline: ``--objects`` gzip log objects of ``--events`` events each written
    into the local logs store, one every ``--every`` seconds, in the current delivery hour; parts
    from the runs in Dagster's storage: sensor tick (write to the ingest run's creation), launch
    (creation to start: queue and process start), load (the ingest run), restatement (ingest run
    end until visible: the rollup sensor's tick, the rollup run's launch and the run);
(2) the live path: ``--batches`` NDJSON batches of ``--events`` events POSTed to
    ``/analytics/v1/events`` with an ingest key, one every ``--every`` seconds; parts: the API
    (the POST until its answer: the batch is committed), then the hourly rollup run that made it
    visible: the wait for its start (``live_ingestion_restatement_sensor``'s tick and the run's
    launch, split when the run was requested after the answer) and the run until visible.

For each object or batch: the time from its write or send until every event of it counts in
``analytics_hourly_rollups`` (the hours' rollup requests reach what the ingest ledger says the
entries ingested so far hold). The paths run apart, so that one path's rollup runs (which restate
an hour from all its raw events) never make the other's events visible.
Targets: the S3 path p95 under 90 s, the live path p95 under 60 s, with the sensors' default intervals.
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

import httpx
import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analytics_pipeline.api.keys import create_key  # noqa: E402
from analytics_pipeline.generator.send import ndjson  # noqa: E402
from analytics_pipeline.storage.object_store import LocalDirectoryStore  # noqa: E402
from analytics_pipeline.warehouse.database import connect  # noqa: E402
from benchmarks._common import load_average, log, pipeline_environment, print_table, throwaway_postgres  # noqa: E402

TIMEOUT = 600


@dataclass
class Dropped:
    """An S3 object written, or a live batch sent (``key``: its ledger key)."""

    key: str
    written: float
    events: int
    visible: float | None = None
    answered: float | None = None  # a live batch: when the API answered (committed)
    parts: dict[str, float] = field(default_factory=dict)


def event_lines(events: int, now: datetime) -> list[bytes]:
    return [orjson.dumps({"timestamp": (now - timedelta(seconds=i % 50)).isoformat(timespec="milliseconds"),
                          "customer_id": f"org-{i % 7}", "request_id": f"req-{uuid.uuid4().hex}",
                          "endpoint": "/v1/chat/completions", "method": "POST", "status_code": 200,
                          "duration_ms": 100 + i % 400, "tokens_input": 100 + i % 50, "tokens_output": 20,
                          "model_id": "gpt-4o-mini"}) for i in range(events)]


def log_object(events: int, now: datetime) -> bytes:
    return gzip.compress(b"\n".join(event_lines(events, now)) + b"\n", mtime=0)


VISIBLE_SQL = """
-- Is every event of ledger entry %(key)s counted by the hourly rollups? For each of its event hours,
-- the rollups must count at least the events of the entries (any path) ingested up to it.
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


def run_records(instance):
    """The ingest runs and the hourly rollup runs, oldest first."""
    records = instance.get_run_records(limit=5000, ascending=True)
    ingest = [r for r in records if r.dagster_run.job_name == "raw_usage_events_job"]
    rollups = [r for r in records if r.dagster_run.job_name == "hourly_rollups_job"]
    return ingest, rollups


def rollup_that_made_it_visible(rollups, after: float, visible: float):
    """The hourly rollup run that made an entry visible: of those started between ``after``
    (they could read its rows) and ``visible``, the last to start (its end is recorded after
    its commit, when the poll may already have seen the rows)."""
    started = [r for r in rollups if r.start_time is not None and after <= r.start_time <= visible]
    return max(started, key=lambda r: r.start_time, default=None)


def object_parts(instance, dropped: list[Dropped]) -> None:
    """Fill each object's parts from the runs: its ingest run, then the restatement until visible."""
    ingest, _rollups = run_records(instance)

    def keys_of(run) -> list[str]:
        return run.run_config.get("ops", {}).get("raw_usage_events", {}).get("config", {}).get("object_keys", [])

    for item in dropped:
        mine = next((r for r in ingest if item.key in keys_of(r.dagster_run)), None)
        if mine is None or mine.start_time is None or mine.end_time is None:
            continue
        item.parts["sensor tick"] = mine.create_timestamp.timestamp() - item.written
        item.parts["launch"] = mine.start_time - mine.create_timestamp.timestamp()
        item.parts["load"] = mine.end_time - mine.start_time
        item.parts["restatement"] = item.visible - mine.end_time


def batch_parts(instance, sent: list[Dropped]) -> None:
    """Fill each live batch's parts (they add up to its latency): the API's answer, the wait for
    the start of the rollup run that made it visible (the live sensor's tick and the run's launch;
    split in two when the run was requested after the answer, else the batch caught a run already
    queued), and that run until the rows were seen."""
    _ingest, rollups = run_records(instance)
    for item in sent:
        item.parts["api"] = item.answered - item.written
        run = rollup_that_made_it_visible(rollups, item.answered, item.visible)
        if run is None:
            continue
        created = run.create_timestamp.timestamp()
        item.parts["answer to run start"] = run.start_time - item.answered
        if created >= item.answered:
            item.parts["  sensor tick"] = created - item.answered
            item.parts["  launch"] = run.start_time - created
        item.parts["restatement run"] = item.visible - run.start_time


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def start_api(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, str]:
    """``analytics-pipeline api`` on a free port of 127.0.0.1; returns it and its base URL once ready."""
    from analytics_pipeline.cli.services import free_port

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "analytics_pipeline.cli", "api", "--port", str(port)], env=env,
                              cwd=REPO, stdout=log_path.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the API did not start: see {log_path}")
        time.sleep(0.3)


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def until_visible(conn, items: list[Dropped], count: int, every: float, send) -> None:
    """Send ``count`` items, one every ``every`` seconds (``send()`` returns one), until each is visible."""
    started = next_send = time.time()
    while len(items) < count or any(d.visible is None for d in items):
        now = time.time()
        if len(items) < count and now >= next_send:
            items.append(send(len(items)))
            next_send += every
        for item in items:
            if item.visible is None and conn.execute(VISIBLE_SQL, {"key": item.key}).fetchone()[0]:
                item.visible = time.time()
        if now - started > TIMEOUT + count * every:
            raise SystemExit(f"{sum(d.visible is None for d in items)} of {len(items)} never became visible")
        time.sleep(0.5)


def rows_of(label: str, items: list[Dropped], parts: tuple[str, ...]) -> list[tuple]:
    latencies = [d.visible - d.written for d in items]
    rows = [(label, f"{statistics.median(latencies):.1f}", f"{percentile(latencies, 0.95):.1f}",
             f"{max(latencies):.1f}")]
    for part in parts:
        values = [d.parts[part] for d in items if part in d.parts]
        if values:
            rows.append((f"  {part} ({len(values)})", f"{statistics.median(values):.1f}",
                         f"{percentile(values, 0.95):.1f}", f"{max(values):.1f}"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=30, help="S3 objects (the baseline path)")
    parser.add_argument("--batches", type=int, default=30, help="live batches POSTed to /analytics/v1/events")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between two objects or batches")
    parser.add_argument("--events", type=int, default=2000, help="events per object or batch")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    loads: dict[str, str] = {}
    with throwaway_postgres(keep=args.keep) as pg:
        store = LocalDirectoryStore(pg.scratch_dir("logs"))
        env = pipeline_environment(pg, "daemon", store.root)
        warehouse = env["ANALYTICS_DATABASE_URL"]
        command = [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", str(REPO / "workspace.yaml")]
        daemon_log = (pg.root / "daemon.log").open("w")
        daemon = subprocess.Popen(command, env=env, cwd=REPO, stdout=daemon_log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        api = None
        try:
            started = time.time()
            api, base = start_api(env, pg.root / "api.log")
            with connect(warehouse, autocommit=True) as conn:
                key, ingest = create_key(conn, name="freshness benchmark", organization_id=None, finance=False,
                                         now=datetime.now(UTC), ingest=True)
                while not conn.execute("SELECT EXISTS (SELECT FROM analytics_model_prices)").fetchone()[0]:
                    if daemon.poll() is not None:
                        raise SystemExit(f"the daemon exited ({daemon.returncode}): see {pg.root / 'daemon.log'}")
                    if time.time() - started > TIMEOUT:
                        raise SystemExit("the price catalog never loaded (is price_catalog_sensor running?)")
                    time.sleep(1)
                log(f"daemon and API up, price catalog loaded by its sensor after {time.time() - started:.1f} s")

                def write_object(n: int) -> Dropped:
                    moment = datetime.now(UTC)
                    object_key = f"{moment:%Y/%m/%d/%H}/bench-{n:04d}.jsonl.gz"
                    store.write(object_key, log_object(args.events, moment))
                    return Dropped(object_key, time.time(), args.events)

                dropped: list[Dropped] = []
                until_visible(conn, dropped, args.objects, args.every, write_object)
                loads["S3"] = load_average()
                log(f"(1) S3 path: {len(dropped)} objects visible; load average {loads['S3']}")

                client = httpx.Client(base_url=base, timeout=60)

                def send_batch(n: int) -> Dropped:
                    idempotency = f"freshness-{n:04d}-{uuid.uuid4().hex[:8]}"
                    body = ndjson(event_lines(args.events, datetime.now(UTC)))
                    sent = time.time()
                    answer = client.post("/analytics/v1/events", content=body, headers={
                        "Authorization": f"Bearer {ingest.token}", "Idempotency-Key": idempotency,
                        "Content-Type": "application/x-ndjson"}).raise_for_status().json()
                    if answer["accepted"] != args.events:
                        raise SystemExit(f"batch {n}: {answer}")
                    return Dropped(f"{key.key_id}/{idempotency}", sent, args.events, answered=time.time())

                sent: list[Dropped] = []
                with client:
                    until_visible(conn, sent, args.batches, args.every, send_batch)
                loads["live"] = load_average()
                log(f"(2) live path: {len(sent)} batches visible; load average {loads['live']}")
            os.environ.update(DAGSTER_HOME=env["DAGSTER_HOME"], DAGSTER_PG_URL=env["DAGSTER_PG_URL"])
            import dagster as dg

            with dg.DagsterInstance.get() as instance:
                object_parts(instance, dropped)
                batch_parts(instance, sent)
        finally:
            if api is not None:
                stop(api)
            stop(daemon)

    log(f"\none every {args.every:g} s, {args.events:,} events each; load average after each path: S3 "
        f"{loads['S3']}, live {loads['live']}; now {load_average()}")
    print_table(("seconds", "p50", "p95", "max"),
                rows_of(f"(1) S3: {len(dropped)} objects to visible rollup (baseline)", dropped,
                        ("sensor tick", "launch", "load", "restatement"))
                + rows_of(f"(2) live: {len(sent)} POST /events batches to visible rollup", sent,
                          ("api", "answer to run start", "  sensor tick", "  launch", "restatement run")))
    s3_p95 = percentile([d.visible - d.written for d in dropped], 0.95)
    live_p95 = percentile([d.visible - d.written for d in sent], 0.95)
    log(f"targets: S3 p95 < 90 s: {s3_p95:.1f} s -> {'PASS' if s3_p95 < 90 else 'FAIL'}; "
        f"live p95 < 60 s: {live_p95:.1f} s -> {'PASS' if live_p95 < 60 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
