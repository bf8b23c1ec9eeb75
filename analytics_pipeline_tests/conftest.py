"""Real services for the tests: an embedded PostgreSQL server and moto's S3 over HTTP.

One server per test session; each test that asks for ``warehouse_url`` gets its own
database, cloned from a migrated template (``CREATE DATABASE ... TEMPLATE``), so tests are
isolated and fast. ``s3_endpoint`` is a ThreadedMotoServer on a free loopback port: the
code under test talks HTTP to it through ordinary boto3 clients, nothing is patched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import boto3
import pytest

from analytics_pipeline.warehouse.database import dagster_storage_url, drop_database, ensure_database, with_database
from analytics_pipeline.warehouse.embedded import ensure_embedded_postgres, stop_embedded_postgres
from analytics_pipeline.warehouse.migrate import upgrade

TEMPLATE_DATABASE = "analytics_test_template"
DAGSTER_TEMPLATE_DATABASE = "dagster_test_template"


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """URL of the session's PostgreSQL server's ``postgres`` database.

    ``ANALYTICS_TEST_SERVER_URL`` points the suite at another server (e.g. Debian's
    PostgreSQL 15); otherwise an embedded PostgreSQL is started for the session.
    """
    external = os.environ.get("ANALYTICS_TEST_SERVER_URL")
    if external:
        yield external
        return
    # Not under pytest's tmp dir: that is private to root (0700), and as root the server
    # runs as another user that must reach its data directory.
    parent = Path(tempfile.mkdtemp(prefix="analytics-test-pg-"))
    parent.chmod(0o755)
    pgdata = parent / "data"
    url = ensure_embedded_postgres(pgdata)
    yield url
    stop_embedded_postgres(pgdata)
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture(scope="session")
def migrated_template(pg_server_url) -> str:
    drop_database(pg_server_url, TEMPLATE_DATABASE)
    url = ensure_database(pg_server_url, TEMPLATE_DATABASE)
    upgrade(url)
    return TEMPLATE_DATABASE


def _clone_database(server_url: str, template: str) -> str:
    import psycopg
    from psycopg import sql

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    return name


@pytest.fixture
def warehouse_url(pg_server_url, migrated_template) -> str:
    """A fresh, migrated database of its own for one test."""
    name = _clone_database(pg_server_url, migrated_template)
    yield with_database(pg_server_url, name)
    drop_database(pg_server_url, name)


def _postgres_instance(url: str):
    import dagster as dg

    return dg.instance_for_test(overrides={"storage": {"postgres": {"postgres_url": dagster_storage_url(url)}}})


@pytest.fixture(scope="session")
def dagster_template(pg_server_url) -> str:
    """A database holding Dagster's own (empty) storage schema, cloned for each test."""
    drop_database(pg_server_url, DAGSTER_TEMPLATE_DATABASE)
    url = ensure_database(pg_server_url, DAGSTER_TEMPLATE_DATABASE)
    with _postgres_instance(url):
        pass  # creating the instance creates the run, event-log and schedule tables
    return DAGSTER_TEMPLATE_DATABASE


@pytest.fixture
def dagster_instance(pg_server_url, dagster_template):
    """A Dagster instance whose run and event storage is a fresh PostgreSQL database, as in
    production (dagster-postgres); SQLite storage spends most of its time in fsync here."""
    name = _clone_database(pg_server_url, dagster_template)
    with _postgres_instance(with_database(pg_server_url, name)) as instance:
        yield instance
    drop_database(pg_server_url, name)


@pytest.fixture
def dagster_pg_url(pg_server_url, dagster_template) -> str:
    """A fresh database holding Dagster's (empty) storage schema, as ``DAGSTER_PG_URL`` names it."""
    name = _clone_database(pg_server_url, dagster_template)
    yield dagster_storage_url(with_database(pg_server_url, name))
    drop_database(pg_server_url, name)


@pytest.fixture
def empty_database_url(pg_server_url) -> str:
    """A fresh database with no schema at all (for migration tests)."""
    name = f"e_{uuid.uuid4().hex[:12]}"
    url = ensure_database(pg_server_url, name)
    yield url
    drop_database(pg_server_url, name)


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    """An S3 endpoint (moto's threaded server) on a free loopback port, with test credentials."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    yield f"http://{host}:{port}"
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def s3_bucket(s3_endpoint) -> str:
    """A new, empty bucket on the S3 endpoint."""
    name = f"bucket-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_client(s3_endpoint):
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")


@pytest.fixture
def analytics_home(tmp_path, monkeypatch) -> Path:
    """An isolated ANALYTICS_HOME whose settings point at nothing shared."""
    home = tmp_path / "home"
    monkeypatch.setenv("ANALYTICS_HOME", str(home))
    for name in ("ANALYTICS_LOGS_URL", "ANALYTICS_EXPORTS_URL", "ANALYTICS_ARCHIVE_URL", "ANALYTICS_PRICE_CATALOG"):
        monkeypatch.delenv(name, raising=False)
    return home
