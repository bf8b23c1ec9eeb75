"""Ingestion speed: our exactly-once path against PostgreSQL's COPY and a first-try pandas load.

    .venv/bin/python benchmarks/ingest.py [--events 1000000] [--pandas-events 100000] [--keep]

Generates N events as gzip JSON-lines objects (the project's generator) in a local store,
then times, in one run and on one throwaway embedded PostgreSQL:

  (a) our path: decode, validate, dedupe, COPY, claim keys, insert, ledger (ObjectLoader);
  (b) the limit: one COPY of the same, already parsed rows into a table indexed like
      analytics_events (partitioned by day, same indexes);
  (c) what a user might write first: pandas ``read_json(lines=True)`` + ``to_sql`` on the
      first objects (``--pandas-events``), extrapolated as events/s.

It also loads every line as ONE object in a child process and reports that process's
peak memory, to show that a multi-million-line object is streamed, not held.
Targets on the project's 2-core machine: (a) >= 100,000 events/s and (a) <= 2 x (b).
"""

from __future__ import annotations

import argparse
import gzip
import multiprocessing
import resource
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics_pipeline.generator.usage_logs import generate_usage_logs  # noqa: E402
from analytics_pipeline.ingestion.contract import EVENT_COLUMNS, EventValidator  # noqa: E402
from analytics_pipeline.ingestion.formats import read_log_lines  # noqa: E402
from analytics_pipeline.ingestion.loader import ObjectLoader  # noqa: E402
from analytics_pipeline.storage.object_store import LocalDirectoryStore  # noqa: E402
from analytics_pipeline.warehouse.database import connect  # noqa: E402
from benchmarks._common import (  # noqa: E402
    log,
    print_server_settings,
    print_table,
    rate,
    throwaway_postgres,
    timed,
)

DAYS = 7


def generate(store: LocalDirectoryStore, events: int):
    start = date.today() - timedelta(days=DAYS + 3)
    per_hour = max(1, round(events / (DAYS * 24)))
    return generate_usage_logs(lambda key, data: store.write(key, data), start=start, days=DAYS, orgs=50,
                               models=6, events_per_hour=per_hour, seed=7)


def our_path(url: str, store: LocalDirectoryStore, now: datetime) -> tuple[float, int, int]:
    objects = list(store.list())
    with connect(url) as conn, connect(url, autocommit=True) as ddl:
        loader = ObjectLoader(conn, ddl, EventValidator(now=now), run_id="benchmark")
        with timed("(a) our ingestion path") as timer:
            accepted = lines = 0
            for obj in objects:
                result = loader.ingest(store, obj)
                accepted += result.accepted
                lines += result.lines_read
    return timer.seconds, accepted, lines


def parsed_rows(store: LocalDirectoryStore, now: datetime) -> list[tuple]:
    validator = EventValidator(now=now)
    rows = []
    for obj in store.list():
        for _number, raw, reason, _detail in read_log_lines(store.stream(obj.key)):
            if reason is None:
                row, _reason, _ = validator.validate(raw)
                if row is not None:
                    rows.append((*row, 0))
    return rows


def copy_limit(url: str, rows: list[tuple]) -> float:
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
        with timed("(b) COPY of parsed rows into an identically indexed table") as timer:
            with conn.cursor().copy(f"COPY bench_copy_events ({columns}) FROM STDIN") as copy:  # noqa: S608
                for row in rows:
                    copy.write_row(row)
            conn.commit()
    return timer.seconds


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--pandas-events", type=int, default=100_000)
    parser.add_argument("--skip-single-object", action="store_true")
    parser.add_argument("--memory-only", action="store_true", help="only the single-object memory measurement")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    now = datetime.now(UTC)

    with throwaway_postgres(keep=args.keep) as pg:
        store = LocalDirectoryStore(pg.scratch_dir("logs"))
        with timed("generate (not measured)"):
            generated = generate(store, args.events)
        objects = len(list(store.list()))
        log(f"{generated.valid_events:,} events in {objects:,} gzip objects")
        if args.memory_only:
            lines, idle_kib, peak_kib = single_object_memory(pg, store, now)
            print(f"one object of {lines:,} lines: peak RSS {peak_kib / 1024:.0f} MiB "
                  f"(the same imports, loading nothing: {idle_kib / 1024:.0f} MiB)")
            return 0
        ours_url = pg.create_database("bench_ours")
        with connect(ours_url) as conn:
            print_server_settings(conn)
        ours_seconds, accepted, lines = our_path(ours_url, store, now)
        assert accepted == generated.valid_events, (accepted, generated.valid_events)

        with timed("parse rows for (b) (not measured)"):
            rows = parsed_rows(store, now)
        copy_seconds = copy_limit(pg.create_database("bench_copy"), rows)
        del rows
        pandas_seconds, pandas_events = pandas_path(pg.create_database("bench_pandas"), store, args.pandas_events)

        memory = None if args.skip_single_object else single_object_memory(pg, store, now)

    print()
    print_table(
        ["path", "events", "seconds", "events/s", "time vs COPY"],
        [
            ["(a) ours: decode+validate+dedupe+load+ledger", f"{accepted:,}", f"{ours_seconds:.2f}",
             rate(accepted, ours_seconds), f"{ours_seconds / copy_seconds:.2f}x"],
            ["(b) limit: COPY of parsed rows", f"{accepted:,}", f"{copy_seconds:.2f}", rate(accepted, copy_seconds),
             "1.00x"],
            ["(c) pandas read_json + to_sql", f"{pandas_events:,}", f"{pandas_seconds:.2f}",
             rate(pandas_events, pandas_seconds),
             f"{(pandas_seconds / pandas_events) / (copy_seconds / accepted):.1f}x"],
        ],
    )
    ours_rate = accepted / ours_seconds
    print(f"\ntarget (a) >= 100,000 events/s: {ours_rate:,.0f} -> {'PASS' if ours_rate >= 100_000 else 'FAIL'}")
    ratio = ours_seconds / copy_seconds
    print(f"target (a) <= 2 x (b): {ratio:.2f}x -> {'PASS' if ratio <= 2 else 'FAIL'}")
    print(f"(a) is {(pandas_seconds / pandas_events) / (ours_seconds / accepted):.1f}x faster per event than (c)")
    if memory:
        lines, idle_kib, peak_kib = memory
        print(f"one object of {lines:,} lines: peak RSS {peak_kib / 1024:.0f} MiB "
              f"(the same imports, loading nothing: {idle_kib / 1024:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
