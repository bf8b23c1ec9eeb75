"""What a run really costs: one delivery hour materialized as the sensor's runs are, whole process.

    .venv/bin/python benchmarks/runs.py [--events 1000000] [--small-events 10000] [--objects 20]
                                        [--repeat 1] [--keep]

For each hour size (``--events``, default 1,000,000, and ``--small-events``, 10,000, where
fixed costs dominate) it writes one delivery hour of gzip JSON-lines objects into a local
store, then times, in one run on one throwaway embedded PostgreSQL:

  (a) ours: ``dagster job execute -m analytics_pipeline.definitions -j raw_usage_events_job
      --tags '{"dagster/partition": "<hour>"}'`` in a fresh process, with Dagster's storage on
      PostgreSQL: exactly the run a ``usage_log_sensor`` tick launches for that hour (the asset
      and every check that runs with it), from process start to process exit;
  (b) the baseline: PostgreSQL's COPY of the same parsed rows (what (a) accepts) into a table
      with only a primary key on (organization_id, request_id).

From the run's event log it prints the wall time of each part: the process start (interpreter,
imports, definitions, until the run starts), each step (the asset's and each check's, with the
time each check evaluation reports), and the end (after the run until the process exits).
Targets on the project's 2-core machine: the 1,000,000-event hour within 3x of (b); the
10,000-event hour under 8 s; the checks that run with the hour at most a quarter of its load.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analytics_pipeline.generator.usage_logs import generate_usage_logs  # noqa: E402
from analytics_pipeline.ingestion.contract import EventValidator  # noqa: E402
from analytics_pipeline.ingestion.formats import read_log_lines  # noqa: E402
from analytics_pipeline.storage.object_store import LocalDirectoryStore  # noqa: E402
from analytics_pipeline.warehouse.database import connect  # noqa: E402
from benchmarks._common import (  # noqa: E402
    load_average,
    log,
    pipeline_environment,
    print_server_settings,
    print_table,
    throwaway_postgres,
)


def write_hour(store: LocalDirectoryStore, hour: datetime, events: int, objects: int, seed: int) -> int:
    """``events`` generated events (a day's traffic model, squeezed into one delivery hour) in
    ``objects`` gzip objects under the hour's ``YYYY/MM/DD/HH/`` prefix; returns the line count."""
    lines: list[bytes] = []

    def keep(_key: str, data: bytes) -> None:
        lines.extend(line for line in gzip.decompress(data).split(b"\n") if line)

    per_hour = max(1, round(events / 24))
    generate_usage_logs(keep, start=(hour - timedelta(days=1)).date(), days=1, orgs=50, models=6,
                        events_per_hour=per_hour, seed=seed)
    per_object = -(-len(lines) // objects)
    for index in range(objects):
        chunk = lines[index * per_object:(index + 1) * per_object]
        if chunk:
            store.write(f"{hour:%Y/%m/%d/%H}/bench-{index:03d}.jsonl.gz",
                        gzip.compress(b"\n".join(chunk) + b"\n", compresslevel=6, mtime=0))
    return len(lines)


def parsed_rows(store: LocalDirectoryStore, now: datetime) -> list[tuple]:
    """The rows (a) accepts: valid lines, the first line of each (organization, request id)."""
    validator = EventValidator(now=now)
    rows, seen = [], set()
    for obj in store.list():
        for _number, raw, reason, _detail in read_log_lines(store.stream(obj.key)):
            if reason is None:
                row, _, _ = validator.validate(raw)
                if row is not None and (row[1], row[2]) not in seen:
                    seen.add((row[1], row[2]))
                    rows.append(row)
    return rows


def copy_baseline(url: str, rows: list[tuple]) -> float:
    """Seconds for COPY of ``rows`` (text format, from a prepared buffer) into a table with only
    a primary key on (organization_id, request_id), committed."""
    from analytics_pipeline.ingestion.contract import EVENT_COLUMNS

    with connect(url) as conn:
        conn.execute("CREATE TABLE bench_copy (LIKE analytics_events INCLUDING DEFAULTS, "
                     "PRIMARY KEY (organization_id, request_id))")
        conn.commit()
        buffer = io.StringIO()
        with conn.cursor() as cursor:
            # Render the text rows first (psycopg's own dumpers), so the timing is the server's COPY.
            for row in rows:  # object_id 0: the table keeps analytics_events' NOT NULL columns
                buffer.write("\t".join(_text(value) for value in row) + "\t0\n")
            data = buffer.getvalue().encode()
            started = time.perf_counter()
            with cursor.copy(f"COPY bench_copy ({', '.join(EVENT_COLUMNS)}, object_id) FROM STDIN") as copy:  # noqa: S608
                for offset in range(0, len(data), 1 << 20):
                    copy.write(data[offset:offset + (1 << 20)])
            conn.commit()
            return time.perf_counter() - started


def _text(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def materialize_hour(env: dict[str, str], partition: str) -> tuple[float, float]:
    """Run the CLI as a sensor-launched run would; returns (spawn time, exit time) as epoch seconds."""
    command = [sys.executable, "-m", "dagster", "job", "execute", "-m", "analytics_pipeline.definitions",
               "-j", "raw_usage_events_job", "--tags", json.dumps({"dagster/partition": partition})]
    spawned = time.time()
    result = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
    exited = time.time()
    if result.returncode != 0:
        log(result.stdout[-4000:] + result.stderr[-4000:])
        raise SystemExit(f"the run failed (exit {result.returncode})")
    return spawned, exited


def run_parts(env: dict[str, str], spawned: float, exited: float) -> tuple[list[tuple[str, float]], dict]:
    """The parts of the newest run, from its event log: process start, each step, the end."""
    os.environ["DAGSTER_HOME"], os.environ["DAGSTER_PG_URL"] = env["DAGSTER_HOME"], env["DAGSTER_PG_URL"]
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        [record] = instance.get_run_records(limit=1)
        run = record.dagster_run
        events = instance.all_logs(run.run_id)
    started = {}
    parts: list[tuple[str, float]] = []
    first = min(e.timestamp for e in events)
    last = max(e.timestamp for e in events)
    parts.append(("process start (interpreter, imports, definitions, run creation)", first - spawned))
    figures: dict = {"checks": {}}
    for entry in events:
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type_value == "STEP_START":
            started[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            parts.append((f"step {event.step_key}", entry.timestamp - started.pop(event.step_key, entry.timestamp)))
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.asset_check_evaluation_data
            figures["checks"][data.check_name] = data.passed
        elif event.event_type_value == "ASSET_MATERIALIZATION":
            metadata = event.step_materialization_data.materialization.metadata
            if "accepted" in metadata and "accepted" not in figures:
                figures["accepted"] = metadata["accepted"].value
    parts.append(("run events from first to last", last - first))
    parts.append(("end (after the last event until the process exits)", exited - last))
    return parts, figures


def measure(pg, label: str, events: int, objects: int, seed: int) -> dict:
    now = datetime.now(UTC)
    hour = (now - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    store = LocalDirectoryStore(pg.scratch_dir(f"logs-{label}"))
    lines = write_hour(store, hour, events, objects, seed)
    log(f"\n[{label}] {lines:,} lines in {objects} gzip objects, delivery hour {hour:%Y-%m-%d %H}:00 UTC")
    env = pipeline_environment(pg, label, store.root)
    spawned, exited = materialize_hour(env, hour.strftime("%Y-%m-%d-%H:%M"))
    whole = exited - spawned
    parts, figures = run_parts(env, spawned, exited)
    rows = parsed_rows(store, now)
    copy_seconds = copy_baseline(pg.create_database(f"copy_{label}"), rows)
    assert figures.get("accepted") == len(rows), (figures.get("accepted"), len(rows))
    log(f"  (a) whole process {whole:.2f} s; (b) COPY of the {len(rows):,} parsed rows {copy_seconds:.2f} s "
        f"-> {whole / copy_seconds:.2f}x  (load average {load_average()})")
    print_table(("part", "seconds"), [(name, f"{seconds:.2f}") for name, seconds in parts])
    log(f"  checks: {figures['checks']}")
    return {"label": label, "events": len(rows), "whole": whole, "copy": copy_seconds, "parts": parts}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--small-events", type=int, default=10_000)
    parser.add_argument("--objects", type=int, default=20)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    results = []
    with throwaway_postgres(keep=args.keep) as pg:
        with connect(pg.create_database("settings_probe", migrate=False)) as conn:
            print_server_settings(conn)
        if args.small_events:
            results.append(measure(pg, "small", args.small_events, max(1, min(args.objects, 5)), seed=5))
        if args.events:
            results.append(measure(pg, "large", args.events, args.objects, seed=7))

    def steps_seconds(result, checks: bool) -> float:
        return sum(s for name, s in result["parts"] if name.startswith("step ")
                   and (name != "step raw_usage_events") == checks)

    log("")
    rows = []
    for result in results:
        load = steps_seconds(result, checks=False)
        check = steps_seconds(result, checks=True)
        target = "< 8 s" if result["label"] == "small" else "<= 3x COPY"
        met = result["whole"] < 8 if result["label"] == "small" else result["whole"] <= 3 * result["copy"]
        rows.append((f"{result['events']:,}-event hour", f"{result['whole']:.2f}", f"{result['copy']:.2f}",
                     f"{result['whole'] / result['copy']:.2f}x", f"{load:.2f}", f"{check:.2f}",
                     f"{check / load:.2f}" if load else "-", target, "PASS" if met else "FAIL"))
    print_table(("hour", "whole run s", "COPY s", "ratio", "load step s", "check steps s", "checks/load",
                 "target", "result"), rows)
    log(f"load average now {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
