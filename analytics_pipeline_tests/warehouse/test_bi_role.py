"""The BI tools' role reads the dashboard views of ``sql/views`` and nothing else (migration 0009)."""

from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from analytics_pipeline.warehouse.database import connect
from analytics_pipeline.warehouse.migrate import downgrade, upgrade

BI_ROLE = "analytics_bi_reader"
VIEWS = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "sql" / "views").glob("*.sql"))
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


def _relations(conn) -> dict[str, str]:
    """Every table, partition, view and sequence of the warehouse schema, by name: its relkind."""
    rows = conn.execute("SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = 'analytics' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')").fetchall()
    return dict(rows)


def _granted(conn, relation: str) -> set[str]:
    return {privilege for privilege in PRIVILEGES
            if conn.execute("SELECT has_table_privilege(%s, %s, %s)",
                            (BI_ROLE, f"analytics.{relation}", privilege)).fetchone()[0]}


def test_the_role_may_select_every_dashboard_view_and_touch_nothing_else(warehouse_url):
    with connect(warehouse_url) as conn:
        relations = _relations(conn)
        assert {name for name, kind in relations.items() if kind == "v"} > set(VIEWS)  # others stay closed
        for name in relations:
            assert _granted(conn, name) == ({"SELECT"} if name in VIEWS else set()), name
        can_create = conn.execute("SELECT has_schema_privilege(%s, 'analytics', 'CREATE')", (BI_ROLE,)).fetchone()[0]
        assert not can_create
        login, superuser = conn.execute("SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = %s",
                                        (BI_ROLE,)).fetchone()
        assert login and not superuser


def test_as_the_role_the_views_answer_and_the_tables_refuse(warehouse_url):
    with connect(warehouse_url) as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(BI_ROLE)))
        for view in VIEWS:  # a view reads its tables with its owner's privileges
            conn.execute(sql.SQL("SELECT * FROM {} LIMIT 1").format(sql.Identifier(view))).fetchall()
        for statement in ("SELECT count(*) FROM analytics_events", "SELECT * FROM analytics_export_jobs",
                          "DELETE FROM analytics_daily_rollups", "CREATE TABLE analytics_bi_scratch (x int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                with conn.transaction():
                    conn.execute(statement)


def test_the_grants_come_back_after_a_downgrade_and_the_role_outlives_it(warehouse_url):
    downgrade(warehouse_url, "0008")  # the revision before the role's
    with connect(warehouse_url) as conn:
        assert all(not _granted(conn, view) for view in VIEWS)
        assert conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (BI_ROLE,)).fetchone()  # server-wide
    upgrade(warehouse_url)
    upgrade(warehouse_url)  # idempotent: the role exists, the grants are repeated
    with connect(warehouse_url) as conn:
        assert all(_granted(conn, view) == {"SELECT"} for view in VIEWS)
