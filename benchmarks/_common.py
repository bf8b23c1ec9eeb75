"""Helpers shared by the benchmark scripts: a throwaway PostgreSQL, timing, printing, and a
closed-loop HTTP load generator.

Nothing here knows about a particular benchmark. A script typically does::

    with throwaway_postgres(keep=args.keep) as pg:
        url = pg.create_database("bench")   # created and migrated to head
        with connect(url) as conn:
            print_server_settings(conn)
            with timed("step") as t:
                ...
            print(t.seconds)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from analytics_pipeline.warehouse.database import ensure_database
from analytics_pipeline.warehouse.embedded import ensure_embedded_postgres, stop_embedded_postgres
from analytics_pipeline.warehouse.migrate import upgrade

#: Server settings worth printing beside any timing.
SETTINGS = ("work_mem", "maintenance_work_mem", "shared_buffers", "effective_cache_size", "max_parallel_workers",
            "max_parallel_workers_per_gather", "jit", "synchronous_commit", "max_wal_size")


def log(message: str) -> None:
    print(message, flush=True)


@dataclass
class ThrowawayPostgres:
    """An embedded PostgreSQL server whose data lives in a temporary directory."""

    root: Path
    server_url: str

    @property
    def pgdata(self) -> Path:
        return self.root / "pgdata"

    def scratch_dir(self, name: str) -> Path:
        """A directory under the temporary root (removed with it), e.g. for a LocalDirectoryStore."""
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def create_database(self, name: str, *, migrate: bool = True) -> str:
        """Create database ``name`` (migrated to head unless ``migrate=False``); return its URL."""
        url = ensure_database(self.server_url, name)
        if migrate:
            upgrade(url)
        return url


@contextlib.contextmanager
def throwaway_postgres(*, keep: bool = False, prefix: str = "analytics-bench-") -> Iterator[ThrowawayPostgres]:
    """Start an embedded PostgreSQL in a new temporary directory; stop it and delete the directory
    on exit, unless ``keep`` (then both are left for inspection and the directory is printed)."""
    root = Path(tempfile.mkdtemp(prefix=prefix)).resolve()
    pgdata = root / "pgdata"
    try:
        started = time.perf_counter()
        server_url = ensure_embedded_postgres(pgdata)
        log(f"embedded PostgreSQL started in {time.perf_counter() - started:.1f} s, data in {pgdata}")
        yield ThrowawayPostgres(root, server_url)
    finally:
        if keep:
            log(f"--keep: the server is left running on {pgdata}")
            log("  stop and remove it with: .venv/bin/python -c 'from pathlib import Path; "
                "from analytics_pipeline.warehouse.embedded import stop_embedded_postgres; "
                f"stop_embedded_postgres(Path(\"{pgdata}\"))' && rm -rf {root}")
        else:
            try:
                stop_embedded_postgres(pgdata)
            finally:
                shutil.rmtree(root, ignore_errors=True)


@dataclass
class Timer:
    label: str
    seconds: float = 0.0
    _started: float = field(default=0.0, repr=False)


@contextlib.contextmanager
def timed(label: str, *, quiet: bool = False) -> Iterator[Timer]:
    """Wall-clock time of the block, in ``timer.seconds`` once it ends (also on error)."""
    timer = Timer(label, _started=time.perf_counter())
    try:
        yield timer
    finally:
        timer.seconds = time.perf_counter() - timer._started
        if not quiet:
            log(f"  {label}: {timer.seconds:.2f} s  (load average {load_average()})")


def load_average() -> str:
    """The 1-minute load average and the CPU count: other work on the machine skews timings."""
    try:
        return f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    except OSError:
        return "unknown"


def rate(count: int, seconds: float) -> str:
    """``count`` per second, human-readable (e.g. ``1.23 M/s``)."""
    if seconds <= 0:
        return "-"
    per_second = count / seconds
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if per_second >= scale:
            return f"{per_second / scale:.2f} {unit}/s"
    return f"{per_second:.0f} /s"


def server_settings(conn: psycopg.Connection, names: Sequence[str] = SETTINGS) -> dict[str, str]:
    """The version and the current (session) value of each setting in ``names``."""
    values = {"version": conn.execute("SELECT version()").fetchone()[0],
              "jit_available": conn.execute("SELECT pg_jit_available()").fetchone()[0]}
    for name in names:
        row = conn.execute("SELECT current_setting(%s, true)", (name,)).fetchone()
        values[name] = row[0] if row else None
    return values


def print_server_settings(conn: psycopg.Connection, names: Sequence[str] = SETTINGS) -> None:
    values = server_settings(conn, names)
    log(values.pop("version"))
    log("  " + ", ".join(f"{k}={v}" for k, v in values.items()))


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]], file=sys.stdout) -> None:
    """A plain fixed-width table (columns right-aligned except the first)."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))

    print(line(cells[0]), file=file)
    print("  ".join("-" * w for w in widths), file=file)
    for row in cells[1:]:
        print(line(row), file=file)
    file.flush()


def pipeline_environment(pg: ThrowawayPostgres, label: str, logs_root: Path) -> dict[str, str]:
    """The environment of a Dagster process (CLI, daemon) on ``pg``, as a deployment runs it: a
    DAGSTER_HOME with the repo's dagster.yaml and its storage on PostgreSQL (the CLI's block), a
    warehouse database, the logs store at ``logs_root`` and this checkout's code."""
    from analytics_pipeline.cli.services import POSTGRES_STORAGE_BLOCK, REPO_DAGSTER_YAML
    from analytics_pipeline.warehouse.database import dagster_storage_url

    repo = REPO_DAGSTER_YAML.parent
    home = pg.scratch_dir(f"dagster-home-{label}")
    (home / "dagster.yaml").write_text(REPO_DAGSTER_YAML.read_text() + POSTGRES_STORAGE_BLOCK)
    return {**os.environ, "DAGSTER_HOME": str(home),
            "DAGSTER_PG_URL": dagster_storage_url(pg.create_database(f"dagster_{label}", migrate=False)),
            "ANALYTICS_DATABASE_URL": pg.create_database(f"warehouse_{label}"), "ANALYTICS_LOGS_URL": str(logs_root),
            "ANALYTICS_HOME": str(pg.scratch_dir(f"analytics-home-{label}")), "PYTHONPATH": str(repo)}


@dataclass(frozen=True)
class Response:
    """One request of a load run: its latency on the client, status, body size and, when the server
    sends ``Server-Timing: app;dur=...``, the server's own time."""

    seconds: float
    status: int
    body_bytes: int
    server_ms: float | None


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, int, float | None]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, server = 0, None
    for line in head.split(b"\r\n")[1:]:
        lowered = line.lower()
        if lowered.startswith(b"content-length:"):
            length = int(line[15:])
        elif lowered.startswith(b"server-timing:"):
            server = float(line.split(b"dur=", 1)[1])
    if length:
        await reader.readexactly(length)
    return status, length, server


def closed_loop_load(port: int, make_request: Callable[[int], bytes], clients: int, seconds: float) -> list[Response]:
    """``clients`` keep-alive HTTP/1.1 connections to 127.0.0.1:``port``, each sending its next request
    (``make_request(n)``, n counting every request of the run) as soon as the last one's answer is
    read, for ``seconds``. A small asyncio client, so it costs little next to the server."""
    counter = itertools.count()
    responses: list[Response] = []
    deadline = time.perf_counter() + seconds

    async def one_client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                request = make_request(next(counter))
                began = time.perf_counter()
                writer.write(request)
                status, length, server = await _read_response(reader)
                responses.append(Response(time.perf_counter() - began, status, length, server))
        finally:
            writer.close()

    async def run() -> None:
        await asyncio.gather(*(one_client() for _ in range(clients)))

    asyncio.run(run())
    return responses
