"""Ingestion speed: our exactly-once path against PostgreSQL's COPY and a first-try pandas load.

    .venv/bin/python benchmarks/ingest.py [--events 1000000] [--pandas-events 100000] [--keep]
                                          [--no-overlap] [--duplicate-rate 0.01]

Generates N events as gzip JSON-lines objects (the project's generator) in a local store,
then times, in one run and on one throwaway embedded PostgreSQL:

  (a) our path: decode, validate, dedupe, COPY, claim keys, insert, ledger (``ingest_all`` with
      an ObjectLoader on two connections, as the raw_usage_events asset runs it;
      ``--no-overlap``: one connection, no overlap of Python and server work);
  (b) the limit: one COPY of the same, already parsed rows into a table indexed like
      analytics_events (partitioned by day, same indexes), in text format (psycopg's default,
      the "plain COPY") and in binary format (what the loader stages with);
  (c) what a user might write first: pandas ``read_json(lines=True)`` + ``to_sql`` on the
      first objects (``--pandas-events``), extrapolated as events/s.

Beside wall time it reports the CPU seconds of this process and of its server backends
(from /proc, so only for a local server): the machine is shared, and CPU time says where the
time goes even when other work slows the wall clock. It also loads every line as ONE object
in a child process and reports that process's peak memory, to show that a multi-million-line
object is streamed, not held.
Targets on the project's 2-core machine: (a) >= 100,000 events/s and (a) <= 2 x (b).
"""

from __future__ import annotations

import argparse
import gzip
import multiprocessing
import os
import resource
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
from psycopg.types.json import Jsonb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics_pipeline.generator.usage_logs import generate_usage_logs  # noqa: E402
from analytics_pipeline.ingestion.batch import ingest_all  # noqa: E402
from analytics_pipeline.ingestion.contract import EVENT_COLUMNS, EventValidator  # noqa: E402
from analytics_pipeline.ingestion.formats import read_log_lines  # noqa: E402
from analytics_pipeline.ingestion.loader import ObjectLoader  # noqa: E402
from analytics_pipeline.storage.object_store import LocalDirectoryStore  # noqa: E402
from analytics_pipeline.warehouse.database import connect  # noqa: E402
from benchmarks._common import (  # noqa: E402
    load_average,
    log,
    print_server_settings,
    print_table,
    rate,
    throwaway_postgres,
    timed,
)

DAYS = 7
_ATTRIBUTES = EVENT_COLUMNS.index("attributes")


def generate(store: LocalDirectoryStore, events: int, duplicate_rate: float = 0.0):
    start = date.today() - timedelta(days=DAYS + 3)
    per_hour = max(1, round(events / (DAYS * 24)))
    return generate_usage_logs(lambda key, data: store.write(key, data), start=start, days=DAYS, orgs=50,
                               models=6, events_per_hour=per_hour, seed=7, duplicate_rate=duplicate_rate)


def backend_cpu_seconds(conn) -> float:
    """CPU seconds (user + system) of the server process behind ``conn``; 0 if it is not local."""
    try:
        stat = Path(f"/proc/{conn.info.backend_pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Measured:
    """Wall seconds of a path, and the CPU seconds it used here and in its server backends."""

    seconds: float
    client_cpu: float
    server_cpu: float


def our_path(url: str, store: LocalDirectoryStore, now: datetime, overlap: bool = True):
    objects = list(store.list())
    with connect(url) as conn, connect(url) as second, connect(url, autocommit=True) as ddl:
        loader = ObjectLoader(conn, ddl, EventValidator(now=now), run_id="benchmark",
                              second_conn=second if overlap else None)
        label = "(a) our ingestion path" + ("" if overlap else " (one connection, no overlap)")
        cpu0, server0 = time.process_time(), sum(backend_cpu_seconds(c) for c in (conn, second, ddl))
        with timed(label) as timer:
            summary = ingest_all(loader, store, objects)
        measured_ = Measured(timer.seconds, time.process_time() - cpu0,
                             sum(backend_cpu_seconds(c) for c in (conn, second, ddl)) - server0)
    return measured_, summary, loader.timings


def parsed_rows(store: LocalDirectoryStore, now: datetime) -> list[tuple]:
    """The rows (a) accepts: valid lines, first occurrence of each (organization, request id)."""
    validator = EventValidator(now=now)
    rows = []
    seen = set()
    for obj in store.list():
        for _number, raw, reason, _detail in read_log_lines(store.stream(obj.key)):
            if reason is None:
                row, _reason, _ = validator.validate(raw)
                if row is not None and (row[1], row[2]) not in seen:
                    seen.add((row[1], row[2]))
                    rows.append((*row, 0))
    return rows


_COPY_TYPES = ("timestamptz", "text", "text", "text", "text", "int2", "float8", "int8", "int8", "int8", "text", "text",
               "text", "text", "float8", "text", "text", "text", "text", "text", "jsonb", "text", "int8")


def copy_limit(url: str, rows: list[tuple], binary: bool = False) -> Measured:
    first = min(r[0] for r in rows).date()
    last = max(r[0] for r in rows).date()
    with connect(url) as conn:
        conn.execute("CREATE TABLE bench_copy_events (LIKE analytics_events INCLUDING ALL) "
                     "PARTITION BY RANGE (event_time)")
        conn.execute("CREATE INDEX ON bench_copy_events (organization_id, event_time)")
        conn.execute("CREATE INDEX ON bench_copy_events USING brin (event_time)")
        day = first
        while day <= last:
            conn.execute(f"CREATE TABLE bench_copy_events_{day:%Y%m%d} PARTITION OF bench_copy_events "  # noqa: S608
                         f"FOR VALUES FROM ('{day}T00:00:00Z') TO ('{day + timedelta(days=1)}T00:00:00Z')")
            day += timedelta(days=1)
        conn.commit()
        columns = ", ".join((*EVENT_COLUMNS, "object_id"))
        label = f"(b) COPY ({'binary' if binary else 'text'}) of parsed rows into an identically indexed table"
        cpu0, server0 = time.process_time(), backend_cpu_seconds(conn)
        with timed(label) as timer:
            with conn.cursor().copy(f"COPY bench_copy_events ({columns}) FROM STDIN"  # noqa: S608
                                    + (" (FORMAT BINARY)" if binary else "")) as copy:
                if binary:
                    copy.set_types(_COPY_TYPES)
                    for row in rows:  # attributes is JSON text; the binary jsonb dumper takes Python values
                        attributes = row[_ATTRIBUTES]
                        copy.write_row(row if attributes is None else (
                            *row[:_ATTRIBUTES], Jsonb(orjson.loads(attributes)), *row[_ATTRIBUTES + 1:]))
                else:
                    for row in rows:
                        copy.write_row(row)
            conn.commit()
        return Measured(timer.seconds, time.process_time() - cpu0, backend_cpu_seconds(conn) - server0)


def pandas_path(url: str, store: LocalDirectoryStore, limit: int) -> tuple[float, int]:
    import pandas as pd
    from sqlalchemy import create_engine

    from analytics_pipeline.warehouse.database import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(url))
    loaded = 0
    with timed("(c) pandas read_json + to_sql") as timer:
        for obj in store.list():
            if loaded >= limit:
                break
            with gzip.open(store.root / obj.key) as handle:
                frame = pd.read_json(handle, lines=True)
            frame.to_sql("bench_pandas_events", engine, if_exists="append", index=False)
            loaded += len(frame)
    engine.dispose()
    return timer.seconds, loaded


def _peak_rss_kib() -> int:
    # VmHWM belongs to this process image; ru_maxrss would carry the parent's peak across exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _load_single_object(url: str, store_root: str, key: str, now: datetime, queue) -> None:
    store = LocalDirectoryStore(store_root)
    with connect(url) as conn, connect(url, autocommit=True) as ddl:
        result = ObjectLoader(conn, ddl, EventValidator(now=now)).ingest(store, store.head(key))
    queue.put((result.lines_read, _peak_rss_kib()))


def single_object_memory(pg, store: LocalDirectoryStore, now: datetime) -> tuple[int, int, int]:
    """Concatenate every object into one gzip object and load it in a child process."""
    big_store = LocalDirectoryStore(pg.scratch_dir("single"))
    path = big_store.root / "2026" / "single.jsonl.gz"
    path.parent.mkdir(parents=True)
    with gzip.open(path, "wb", compresslevel=1) as out:
        for obj in store.list():
            with gzip.open(store.root / obj.key) as handle:
                out.write(handle.read())
    url = pg.create_database("bench_single")
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    baseline = context.Process(target=_baseline_rss, args=(queue,))
    baseline.start()
    baseline.join()
    idle_kib = queue.get()
    child = context.Process(target=_load_single_object, args=(url, str(big_store.root), "2026/single.jsonl.gz",
                                                            now, queue))
    with timed("single-object load (child process)"):
        child.start()
        child.join()
    lines, peak_kib = queue.get()
    return lines, idle_kib, peak_kib


def _baseline_rss(queue) -> None:
    # The same imports as the loading child, loading nothing: its peak is the fixed cost.
    from analytics_pipeline.ingestion import loader  # noqa: F401

    queue.put(_peak_rss_kib())


def print_results(accepted: int, summary, timings, ours: Measured, copy_text: Measured, copy_binary: Measured,
                  pandas_seconds: float, pandas_events: int, memory: tuple[int, int, int] | None) -> None:
    """The table of the paths beside the COPY baselines of the same run, (a) in detail, the targets."""
    def cpu(m: Measured) -> list[str]:
        return [f"{m.client_cpu:.1f}", f"{m.server_cpu:.1f}"]

    print()
    print_table(
        ["path", "events", "seconds", "events/s", "vs COPY text", "vs binary", "client CPU s", "server CPU s"],
        [
            ["(a) ours: decode+validate+dedupe+load+ledger", f"{accepted:,}", f"{ours.seconds:.2f}",
             rate(accepted, ours.seconds), f"{ours.seconds / copy_text.seconds:.2f}x",
             f"{ours.seconds / copy_binary.seconds:.2f}x", *cpu(ours)],
            ["(b) limit: COPY (text) of parsed rows", f"{accepted:,}", f"{copy_text.seconds:.2f}",
             rate(accepted, copy_text.seconds), "1.00x", f"{copy_text.seconds / copy_binary.seconds:.2f}x",
             *cpu(copy_text)],
            ["(b') COPY (binary) of parsed rows", f"{accepted:,}", f"{copy_binary.seconds:.2f}",
             rate(accepted, copy_binary.seconds), f"{copy_binary.seconds / copy_text.seconds:.2f}x", "1.00x",
             *cpu(copy_binary)],
            ["(c) pandas read_json + to_sql", f"{pandas_events:,}", f"{pandas_seconds:.2f}",
             rate(pandas_events, pandas_seconds),
             f"{(pandas_seconds / pandas_events) / (copy_text.seconds / accepted):.1f}x", "", "", ""],
        ],
    )
    print(f"\n(a) in detail: {summary.lines_read:,} lines, {summary.duplicates:,} duplicates, "
          f"{summary.quarantined:,} quarantined; {timings.groups} transactions "
          f"({summary.objects_loaded} objects); wall seconds: staging (read, decode, validate, COPY) "
          f"{timings.staging:.1f}, claim + insert {timings.claiming:.1f}, quarantine + ledger "
          f"{timings.finishing:.1f}, commit {timings.committing:.1f}, staging thread waiting for the server "
          f"{timings.waiting:.1f}; "
          f"per event: client CPU {1e6 * ours.client_cpu / accepted:.1f} us, "
          f"server CPU {1e6 * ours.server_cpu / accepted:.1f} us")
    ours_rate = accepted / ours.seconds
    print(f"\ntarget (a) >= 100,000 events/s: {ours_rate:,.0f} -> {'PASS' if ours_rate >= 100_000 else 'FAIL'}")
    ratio = ours.seconds / copy_text.seconds
    print(f"target (a) <= 2 x (b): {ratio:.2f}x -> {'PASS' if ratio <= 2 else 'FAIL'} "
          f"(against the binary COPY: {ours.seconds / copy_binary.seconds:.2f}x)")
    print(f"(a) is {(pandas_seconds / pandas_events) / (ours.seconds / accepted):.1f}x faster per event than (c)")
    print(f"load average now {load_average()}")
    if memory:
        lines, idle_kib, peak_kib = memory
        print(f"one object of {lines:,} lines: peak RSS {peak_kib / 1024:.0f} MiB "
              f"(the same imports, loading nothing: {idle_kib / 1024:.0f} MiB)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--pandas-events", type=int, default=100_000)
    parser.add_argument("--duplicate-rate", type=float, default=0.0,
                        help="re-delivered lines per event (the generator's duplicate_rate)")
    parser.add_argument("--no-overlap", action="store_true", help="(a) on one connection, without overlap")
    parser.add_argument("--skip-single-object", action="store_true")
    parser.add_argument("--memory-only", action="store_true", help="only the single-object memory measurement")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    now = datetime.now(UTC)

    with throwaway_postgres(keep=args.keep) as pg:
        store = LocalDirectoryStore(pg.scratch_dir("logs"))
        with timed("generate (not measured)"):
            generated = generate(store, args.events, args.duplicate_rate)
        objects = len(list(store.list()))
        log(f"{generated.valid_events:,} events ({generated.lines_written:,} lines) in {objects:,} gzip objects")
        if args.memory_only:
            lines, idle_kib, peak_kib = single_object_memory(pg, store, now)
            print(f"one object of {lines:,} lines: peak RSS {peak_kib / 1024:.0f} MiB "
                  f"(the same imports, loading nothing: {idle_kib / 1024:.0f} MiB)")
            return 0
        ours_url = pg.create_database("bench_ours")
        with connect(ours_url) as conn:
            print_server_settings(conn)
        ours, summary, timings = our_path(ours_url, store, now, overlap=not args.no_overlap)
        accepted = summary.accepted
        assert accepted == generated.valid_events, (accepted, generated.valid_events)
        assert summary.lines_read == generated.lines_written, (summary.lines_read, generated.lines_written)

        with timed("parse rows for (b) (not measured)"):
            rows = parsed_rows(store, now)
        assert len(rows) == accepted
        copy_text = copy_limit(pg.create_database("bench_copy"), rows)
        copy_binary = copy_limit(pg.create_database("bench_copy_binary"), rows, binary=True)
        del rows
        pandas_seconds, pandas_events = pandas_path(pg.create_database("bench_pandas"), store, args.pandas_events)

        memory = None if args.skip_single_object else single_object_memory(pg, store, now)

    print_results(accepted, summary, timings, ours, copy_text, copy_binary, pandas_seconds, pandas_events, memory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
