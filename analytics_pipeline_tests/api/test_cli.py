"""The command line of the export API: ``api-keys`` (the secret on stdout, once), ``export`` as a
client of the job row (``--wait`` names the command that starts a daemon), and ``api`` itself
in a subprocess, whose access log carries neither keys nor signatures (under encoded names
neither), and whose download links name the port it was started with."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from analytics_pipeline import cli
from analytics_pipeline.api.app import worker_count
from analytics_pipeline.api.keys import create_key, find_key
from analytics_pipeline.api.security import parse_key, secret_digest, signing_key
from analytics_pipeline.cli.services import start_api_process, wait_until_ready
from analytics_pipeline.exports.export_jobs import list_jobs
from analytics_pipeline.settings import Settings, SettingsError, current_settings, load_settings
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.api.conftest import REPO, free_socket
from analytics_pipeline_tests.api.helpers import add_job


@pytest.fixture
def cli_env(warehouse_url, tmp_path, monkeypatch):
    monkeypatch.setenv("ANALYTICS_DATABASE_URL", warehouse_url)
    monkeypatch.setenv("ANALYTICS_HOME", str(tmp_path / "home"))
    current_settings.cache_clear()
    yield warehouse_url
    current_settings.cache_clear()


def test_api_keys_create_prints_only_the_secret_and_stores_its_hash(cli_env, capsys):
    assert cli.main(["api-keys", "create", "--org", "org-a", "--name", "finance-reporting", "--expires-days",
                     "30"]) == 0
    out, err = capsys.readouterr()
    token = out.strip()
    assert out == token + "\n" and parse_key(token) is not None
    key_id, secret = parse_key(token)
    assert key_id in err and secret not in err
    with connect(cli_env) as conn:
        key = find_key(conn, key_id)
        stored = conn.execute("SELECT * FROM analytics_api_keys").fetchone()
    assert key.secret_sha256 == secret_digest(secret) and key.organization_id == "org-a"
    assert (key.expires_at - key.created_at).days == 30 and key.scope == "organization"
    assert secret not in repr(stored) and token not in repr(stored)

    assert cli.main(["api-keys", "create", "--finance", "--name", "all of finance"]) == 0
    finance_token = capsys.readouterr().out.strip()
    assert cli.main(["api-keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert key_id in listing and "finance-reporting" in listing and "all of finance" in listing
    assert secret not in listing and parse_key(finance_token)[1] not in listing
    assert cli.main(["api-keys", "revoke", key_id]) == 0
    assert cli.main(["api-keys", "list"]) == 0
    assert f"{key_id}  revoked" in capsys.readouterr().out
    assert cli.main(["api-keys", "revoke", "000000000000"]) == 1
    assert cli.main(["api-keys", "create", "--org", "org-a", "--finance", "--name", "x"]) == 2
    assert cli.main(["api-keys", "create", "--org", "../etc", "--name", "x"]) == 2


def test_export_creates_the_pending_job_and_wait_names_the_command_that_starts_a_daemon(cli_env, capsys):
    assert cli.main(["export", "--org", "org-a", "--start", "2024-01-01T00:00:00Z",
                     "--end", "2024-01-31T23:59:59Z"]) == 0
    job_id = uuid.UUID(capsys.readouterr().out.strip())
    with connect(cli_env) as conn:
        [job] = list_jobs(conn, job_id=job_id)
    assert job["status"] == "pending" and job["range_end"].day == 1 and job["range_end"].month == 2
    assert cli.main(["export", "--org", "org-a", "--start", "2024-01-01", "--end", "2024-01-08", "--wait",
                     "--timeout", "0.3", "--poll-seconds", "0.1"]) == 3
    err = capsys.readouterr().err
    assert "no Dagster daemon has picked up export job" in err
    assert "`analytics-pipeline ui`" in err and "`dagster-daemon run`" in err
    assert cli.main(["export", "--org", "org-a", "--start", "2024-01-01", "--end", "2024-03-01"]) == 2
    assert "at most 31 days" in capsys.readouterr().err


def test_the_signing_key_is_made_once_and_kept_private(tmp_path):
    settings = Settings(home=tmp_path)
    first = signing_key(settings)
    assert signing_key(Settings(home=tmp_path)) == first and len(first) >= 32
    assert (tmp_path / "api-signing-key").stat().st_mode & 0o777 == 0o600
    assert signing_key(Settings(home=tmp_path, api_signing_key="from-the-environment")) == b"from-the-environment"


def test_the_api_runs_two_workers_per_cpu_unless_told_otherwise():
    cpus = len(os.sched_getaffinity(0))
    assert cli.build_parser().parse_args(["api"]).workers is None
    assert worker_count(Settings()) == 2 * cpus
    assert worker_count(load_settings({"ANALYTICS_API_WORKERS": "3"})) == 3
    assert worker_count(load_settings({"ANALYTICS_API_WORKERS": "3"}), 1) == 1  # --workers wins
    with pytest.raises(SettingsError, match="ANALYTICS_API_WORKERS"):
        load_settings({"ANALYTICS_API_WORKERS": "0"})


def test_analytics_pipeline_api_serves_and_logs_no_secrets(warehouse_url, tmp_path):
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {**os.environ, "PYTHONPATH": str(REPO), "ANALYTICS_DATABASE_URL": warehouse_url,
           "ANALYTICS_HOME": str(tmp_path / "home"), "ANALYTICS_EXPORTS_URL": str(tmp_path / "exports")}
    env.pop("ANALYTICS_API_SIGNING_KEY", None)
    server = subprocess.Popen([sys.executable, "-m", "analytics_pipeline.cli", "api", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "the API did not start"
            time.sleep(0.2)
        with connect(warehouse_url, autocommit=True) as conn:
            _, new = create_key(conn, name="log check", organization_id="org-a", finance=False,
                                now=datetime(2024, 1, 1, tzinfo=UTC))
        assert httpx.get(f"{url}/analytics/v1/orgs/org-a/exports",
                         headers={"Authorization": f"Bearer {new.token}"}).status_code == 200
        signature, encoded = "ab" * 32, "cd" * 32
        link = f"{url}/analytics/v1/files/{uuid.uuid4()}/usage_daily.csv?expires=32503679999&signature={signature}"
        assert httpx.get(link).status_code == 403
        assert httpx.get(link.replace(f"signature={signature}", f"%73ignature={encoded}")).status_code == 403
        # Started with --port and no ANALYTICS_API_PUBLIC_URL: the signed link names that port.
        job = add_job(SimpleNamespace(database_url=warehouse_url, clock=SimpleNamespace(now=datetime.now(UTC)),
                                      settings=SimpleNamespace(exports_url=str(tmp_path / "exports"))),
                      "org-a", status="succeeded", content=b"csv of org-a\n")
        download = httpx.get(f"{url}/analytics/v1/orgs/org-a/exports/{job}/download",
                             headers={"Authorization": f"Bearer {new.token}"})
        assert download.status_code == 302 and download.headers["location"].startswith(f"{url}/analytics/v1/files/")
        assert httpx.get(download.headers["location"]).content == b"csv of org-a\n"
        assert httpx.get(f"{url}/readyz").json()["status"] == "ready"
    finally:
        server.send_signal(signal.SIGINT)
        log, _ = server.communicate(timeout=30)
    assert "GET /analytics/v1/orgs/org-a/exports HTTP/1.1" in log
    assert "signature=[redacted]" in log and "expires=32503679999" in log
    assert signature not in log and encoded not in log and "%73ignature=[redacted]" in log
    assert new.secret not in log and new.token not in log
    assert (tmp_path / "home" / "api-signing-key").stat().st_mode & 0o777 == 0o600


def _worker_pids(supervisor: int) -> set[int]:
    """The API workers of ``supervisor`` (uvicorn's spawned children; not multiprocessing's resource tracker)."""
    pids = set()
    for pid in Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split():
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command and b"resource_tracker" not in command:
            pids.add(int(pid))
    return pids


def test_workers_each_take_connections_and_a_killed_one_is_replaced(warehouse_url, tmp_path):
    """Each worker listens on a socket of its own (SO_REUSEPORT): new connections spread over all of
    them, and after a worker is killed with SIGKILL its replacement takes its share, every new
    connection answered."""
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {**os.environ, "ANALYTICS_DATABASE_URL": warehouse_url, "ANALYTICS_HOME": str(tmp_path / "home"),
           "ANALYTICS_EXPORTS_URL": str(tmp_path / "exports")}
    server = start_api_process(port, env=env, workers=3)
    try:
        workers = _worker_pids(server.pid)
        assert len(workers) == 3

        # A burst of connections opened at once, each then answered: on one shared socket the first
        # worker to wake may take them all; on a socket each, the kernel spreads them.
        burst = [socket.create_connection(("127.0.0.1", port)) for _ in range(12)]
        try:
            for client in burst:
                client.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
                assert client.recv(65536).startswith(b"HTTP/1.1 200")
            owners = _connection_owners(port, [client.getsockname()[1] for client in burst], workers)
        finally:
            for client in burst:
                client.close()
        assert len(owners) == 12 and len(set(owners.values())) >= 2, owners
        os.kill(min(workers), signal.SIGKILL)
        deadline = time.monotonic() + 30
        while len(_worker_pids(server.pid) - workers) < 1 or len(_worker_pids(server.pid)) < 3:
            assert time.monotonic() < deadline, "the killed worker was not replaced"
            time.sleep(0.2)
        assert wait_until_ready(port, alive=lambda: server.poll() is None, timeout=30)
        for _ in range(60):  # none lands on the dead worker's socket
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


def _connection_owners(port: int, client_ports: list[int], workers: set[int]) -> dict[int, int]:
    """Which worker holds the server side of each client port's connection to ``port`` (Linux /proc)."""
    inodes = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port, remote_port = int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16)
        if local_port == port and remote_port in client_ports:
            inodes[f"socket:[{fields[9]}]"] = remote_port
    owners = {}
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target in inodes:
                owners[inodes[target]] = pid
    return owners
