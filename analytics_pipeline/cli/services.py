"""The long-running commands of ``analytics-pipeline``: ``ui`` (the Dagster UI, with DAGSTER_HOME
prepared on PostgreSQL), ``api`` (the export API on uvicorn) and ``consume`` (a Kinesis consumer)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from analytics_pipeline.cli.shared import warehouse_url
from analytics_pipeline.settings import Settings, environment_for

REPO = Path(__file__).resolve().parents[2]
REPO_DAGSTER_YAML = REPO / "dagster.yaml"
POSTGRES_STORAGE_BLOCK = """
storage:
  postgres:
    postgres_url:
      env: DAGSTER_PG_URL
"""


def prepare_dagster_home(settings) -> Path:
    """Point DAGSTER_HOME at ``$ANALYTICS_HOME/dagster`` with the repo's dagster.yaml, its
    storage on PostgreSQL (``DAGSTER_PG_URL``: the embedded server's ``dagster`` database by
    default). Returns the directory; sets the environment of this process and its children."""
    from analytics_pipeline.warehouse.database import dagster_storage_url, ensure_database
    from analytics_pipeline.warehouse.embedded import ensure_embedded_postgres

    home = settings.home / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(REPO_DAGSTER_YAML.read_text() + POSTGRES_STORAGE_BLOCK)
    os.environ["DAGSTER_HOME"] = str(home)
    if not settings.dagster_pg_url:
        if settings.database_url:
            url = settings.database_url
        else:
            url = ensure_database(ensure_embedded_postgres(settings.embedded_pgdata), "dagster")
        os.environ.update(environment_for(dagster_pg_url=dagster_storage_url(url)))
    return home


def cmd_ui(args) -> int:
    from analytics_pipeline.settings import current_settings

    settings = current_settings()
    home = prepare_dagster_home(settings)
    workspace = REPO / "workspace.yaml"
    print(f"DAGSTER_HOME={home}; storage on PostgreSQL; partitions from {settings.partitions_start} "
          "(ANALYTICS_PARTITIONS_START); Ctrl-C or SIGTERM to stop", flush=True)
    # The interpreter running this command has dagster installed, whether or not its venv is on PATH.
    # dagster dev runs in DAGSTER_HOME: started in the repo root, it would find the repo's dagster.yaml
    # beside it and warn that it "will not be used" (DAGSTER_HOME holds the copy that is, with storage).
    command = [sys.executable, "-m", "dagster", "dev", "-w", str(workspace), "-h", args.host, "-p", str(args.port)]
    return run_until_signalled(command, cwd=home)


#: How long a stopping ``dagster dev`` gets to stop its webserver, daemon and code servers.
STOP_TIMEOUT_SECONDS = 60.0


def run_until_signalled(command: list[str], *, cwd: Path, stop_timeout: float = STOP_TIMEOUT_SECONDS) -> int:
    """Run ``command`` as a service: in a process group of its own, stopped on SIGINT or SIGTERM.

    Either signal, from a terminal or any parent (a shell's background job starts with SIGINT
    ignored, a supervisor sends SIGTERM), becomes a SIGINT to the child's whole group: what
    ``dagster dev`` and its webserver, daemon and code servers shut down cleanly on (a SIGTERM
    would leave the child's children running). Then waits for the group's leader, kills the group
    after ``stop_timeout`` seconds, and returns 0 for a requested stop, else the child's code."""
    import signal
    import subprocess

    def restore_default_interrupt() -> None:  # an ignored SIGINT is inherited: the child would ignore ours
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    child = subprocess.Popen(command, cwd=cwd, start_new_session=True, preexec_fn=restore_default_interrupt)
    stop_requested = []

    def forward(signum, _frame) -> None:
        stop_requested.append(signum)
        try:
            os.killpg(child.pid, signal.SIGINT)
        except ProcessLookupError:
            pass

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    deadline = None
    try:
        while True:
            try:
                code = child.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if stop_requested and deadline is None:
                    deadline = time.monotonic() + stop_timeout
                if deadline is not None and time.monotonic() > deadline:
                    print(f"{command[0]} did not stop within {stop_timeout:g} s: killing it", file=sys.stderr)
                    os.killpg(child.pid, signal.SIGKILL)
                    deadline = float("inf")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    try:  # what the leader left behind (a code server it could not reach) goes with it
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return 0 if stop_requested else code


def cmd_api(args) -> int:
    from analytics_pipeline.api.app import serve
    from analytics_pipeline.settings import current_settings

    serve(current_settings(), host=args.host, port=args.port, workers=args.workers)
    return 0


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now, for an API started on it next."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_api_process(port: int, *, env: dict[str, str], workers: int | None = 1,
                      timeout: float = 60.0) -> subprocess.Popen:
    """``analytics-pipeline api`` on 127.0.0.1:``port`` as a child process with ``env``, returned once
    ``/readyz`` answers 200 (its warehouse reachable and migrated); RuntimeError if it exits or is
    not ready within ``timeout`` seconds. ``workers`` None: the API's own default
    (:func:`~analytics_pipeline.api.app.worker_count`). The demo's live step, the crash tests and
    the benchmarks start the API this one way."""
    server = subprocess.Popen([sys.executable, "-m", "analytics_pipeline.cli", "api", "--port", str(port),
                               *(() if workers is None else ("--workers", str(workers)))], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_until_ready(port, alive=lambda: server.poll() is None, timeout=timeout):
        server.kill()
        raise RuntimeError(f"the API did not start on port {port}")
    return server


def wait_until_ready(port: int, *, alive: Callable[[], bool], timeout: float) -> bool:
    """Poll the API on 127.0.0.1:``port`` until ``/readyz`` answers 200 (True), or until ``alive()``
    turns False or ``timeout`` seconds pass (False)."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return True
        except httpx.TransportError:
            pass
        if not alive() or time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def cmd_consume(args) -> int:
    """A Kinesis Data Streams consumer (long-running), or ``--status``: each shard's checkpoint,
    lease and lag."""
    import logging
    import signal
    import threading

    from analytics_pipeline.ingestion.contract import EventValidator
    from analytics_pipeline.ingestion.kinesis import (
        KinesisConsumer,
        kinesis_client,
        stream_consumers_alive,
        stream_status,
    )
    from analytics_pipeline.settings import current_settings
    from analytics_pipeline.warehouse.database import connect

    settings = current_settings()
    url = warehouse_url(settings)
    if args.status:
        with connect(url, autocommit=True) as conn:
            shards = stream_status(conn, args.stream)
            alive = stream_consumers_alive(conn, args.stream)
        for shard in shards:
            lease = (f"{shard.lease_owner} until {shard.lease_expires_at:%H:%M:%S}" if shard.lease_live
                     else "free")
            state = "drained" if shard.drained else "open"
            print(f"{shard.shard_id}  {state:<7}  records {shard.records_loaded:>12,}  behind "
                  f"{shard.millis_behind_latest if shard.millis_behind_latest is not None else '?':>8} ms  "
                  f"lease {lease}  parents {','.join(shard.parent_shard_ids) or '-'}  "
                  f"checkpoint {shard.checkpoint_sequence or '-'}")
        print(f"{len(shards)} shard(s) of {args.stream}; {alive} consumer(s) alive", file=sys.stderr)
        return 0 if alive else 1  # the health check of a consumer's container
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with connect(url) as conn, connect(url, autocommit=True) as ddl_conn:
        consumer = KinesisConsumer(
            kinesis_client(args.endpoint_url, args.max_attempts), conn, ddl_conn, args.stream,
            validator_at=lambda now: EventValidator(now=now, retention_days=settings.raw_retention_days),
            owner=args.consumer_id, lease_seconds=args.lease_seconds, batch_records=args.batch_records,
            poll_seconds=args.poll_seconds)
        consumer.run(stop)
    return 0


def add_ui_command(commands: argparse._SubParsersAction) -> None:
    ui = commands.add_parser("ui", help="start the Dagster UI (dagster dev) on the project's storage")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)


def add_api_command(commands: argparse._SubParsersAction) -> None:
    api = commands.add_parser("api", help="run the export API (FastAPI on uvicorn)")
    api.add_argument("--host", default=None, help=f"default: ANALYTICS_API_HOST ({Settings.api_host})")
    api.add_argument("--port", type=int, default=None,
                     help=f"default: ANALYTICS_API_PORT ({Settings.api_port}); the download links follow it "
                          "unless ANALYTICS_API_PUBLIC_URL is set")
    api.add_argument("--workers", type=int, default=None,
                     help="worker processes on the one port (default: ANALYTICS_API_WORKERS, else two per CPU)")
    api.set_defaults(func=cmd_api)


def add_consume_command(commands: argparse._SubParsersAction) -> None:
    consume = commands.add_parser("consume", help="load a Kinesis data stream continuously, exactly once")
    consume.add_argument("--stream", required=True, help="the Kinesis data stream's name")
    consume.add_argument("--status", action="store_true",
                         help="print each shard's checkpoint, lease and lag; exit 1 when no consumer is alive")
    consume.add_argument("--endpoint-url", help="Kinesis endpoint (default: the AWS chain, AWS_ENDPOINT_URL)")
    consume.add_argument("--max-attempts", type=int, default=10, help="boto3 attempts per call (default 10)")
    consume.add_argument("--consumer-id", help="this consumer's lease holder name (default host:pid)")
    consume.add_argument("--lease-seconds", type=float, default=30.0,
                         help="a dead consumer's shards are taken over after this long (default 30)")
    consume.add_argument("--batch-records", type=int, default=1000, help="records per GetRecords (default 1000)")
    consume.add_argument("--poll-seconds", type=float, default=1.0, help="pause when no shard had records")
    consume.set_defaults(func=cmd_consume)
