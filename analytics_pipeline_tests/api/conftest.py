"""The export API over real HTTP: uvicorn on a free loopback port (in a thread of the test
process), the embedded PostgreSQL of the session, and moto's S3 server or a local directory."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import httpx
import pytest
import uvicorn
from botocore.config import Config

from analytics_pipeline.api.app import create_app
from analytics_pipeline.api.keys import create_key
from analytics_pipeline.settings import Settings, load_settings
from analytics_pipeline.warehouse.database import connect

# A fixed "now" for every API test: nothing depends on today's date.
NOW = datetime(2024, 2, 1, 9, 0, tzinfo=UTC)


class FrozenClock:
    """ "Now" for the app under test: frozen, moved by hand; ``tick`` advances it on every read
    (distinct creation times, as a real clock gives)."""

    def __init__(self, now: datetime = NOW, tick: timedelta = timedelta(0)) -> None:
        self.now, self.tick = now, tick
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            moment = self.now
            self.now = self.now + self.tick
            return moment

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self.now = self.now + delta


@dataclasses.dataclass
class RunningApi:
    url: str
    settings: Settings
    clock: FrozenClock
    database_url: str
    client: httpx.Client

    def key(self, org: str | None, name: str = "finance-reporting", *, finance: bool = False,
            ingest: bool = False, expires_in: timedelta | None = None) -> tuple[str, str]:
        """A new API key: (token, key_id)."""
        with connect(self.database_url, autocommit=True) as conn:
            row, new = create_key(conn, name=name, organization_id=None if finance or ingest else org,
                                  finance=finance, ingest=ingest, now=self.clock.now, expires_in=expires_in)
        return new.token, row.key_id

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class ApiServers:
    """Starts APIs (uvicorn, a thread each) on the given warehouse with settings overrides; stops them all."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.running: list[tuple[uvicorn.Server, threading.Thread, httpx.Client]] = []

    def start(self, database_url: str, *, exports_url: str | None = None, s3_endpoint: str | None = None,
              clock: FrozenClock | None = None, customize: Callable[[object], None] | None = None,
              **overrides) -> RunningApi:
        sock = free_socket()
        port = sock.getsockname()[1]
        home = self.directory / f"api-{len(self.running)}"
        # The key cache off unless a test turns it on: a revocation then takes effect at once.
        overrides = {"api_key_cache_seconds": 0.0, **overrides}
        settings = dataclasses.replace(
            load_settings({}), home=home / "home", database_url=database_url,
            exports_url=exports_url or str(home / "exports"), api_public_url=f"http://127.0.0.1:{port}",
            api_signing_key="test-signing-key-0123456789abcdefghijklmnopqrstuv", api_pool_size=4,
            api_pool_timeout_seconds=2.0, **overrides)
        clock = clock or FrozenClock()
        factory = (lambda: boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                                        config=Config(signature_version="s3v4"))) if s3_endpoint else None
        app = create_app(settings, clock=clock, s3_client_factory=factory)
        if customize is not None:  # e.g. a route of the test's own
            customize(app)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API did not start")
            time.sleep(0.02)
        url = f"http://127.0.0.1:{port}"
        client = httpx.Client(base_url=url, timeout=30, follow_redirects=False)
        self.running.append((server, thread, client))
        return RunningApi(url, settings, clock, database_url, client)

    def stop(self) -> None:
        for server, thread, client in self.running:
            client.close()
            server.should_exit = True
            thread.join(timeout=15)


@pytest.fixture
def start_api(tmp_path) -> Iterator[Callable[..., RunningApi]]:
    """Starts the API with ``settings`` overrides (see :meth:`ApiServers.start`; ``customize`` is
    called with the app before it serves); stopped at teardown."""
    servers = ApiServers(tmp_path)
    yield servers.start
    servers.stop()


@pytest.fixture(scope="module")
def module_warehouse_url(pg_server_url, migrated_template) -> Iterator[str]:
    """A migrated database shared by one module's tests (for read-mostly tests)."""
    from analytics_pipeline.warehouse.database import drop_database, with_database
    from analytics_pipeline_tests.conftest import _clone_database

    name = _clone_database(pg_server_url, migrated_template)
    yield with_database(pg_server_url, name)
    drop_database(pg_server_url, name)


@pytest.fixture(scope="module")
def module_api(tmp_path_factory, module_warehouse_url) -> Iterator[RunningApi]:
    """One API for a whole module, on its own database, at NOW."""
    servers = ApiServers(tmp_path_factory.mktemp("module-api"))
    yield servers.start(module_warehouse_url)
    servers.stop()


@pytest.fixture
def api(start_api, warehouse_url) -> RunningApi:
    """The API on the test's warehouse and a local exports directory, at NOW."""
    return start_api(warehouse_url)


REPO = Path(__file__).resolve().parents[2]
