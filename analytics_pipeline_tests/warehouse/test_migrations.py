from datetime import date

import psycopg
import pytest

from analytics_pipeline.warehouse.database import connect
from analytics_pipeline.warehouse.migrate import current_revision, downgrade, upgrade

TABLES = {
    "analytics_events", "analytics_event_keys", "analytics_quarantine", "analytics_ingested_objects",
    "analytics_hourly_rollups", "analytics_daily_rollups", "analytics_export_jobs", "analytics_model_prices",
}


def _tables(url):
    with connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'analytics' AND tablename LIKE 'analytics%%'"
        ).fetchall()
    return {r[0] for r in rows}


def test_migrations_apply_to_an_empty_database_and_are_idempotent(empty_database_url):
    assert current_revision(empty_database_url) is None
    upgrade(empty_database_url)
    head = current_revision(empty_database_url)
    assert head is not None
    assert TABLES <= _tables(empty_database_url)
    upgrade(empty_database_url)  # a second run changes nothing
    assert current_revision(empty_database_url) == head


def test_downgrade_to_base_and_back(empty_database_url):
    upgrade(empty_database_url)
    downgrade(empty_database_url, "base")
    assert current_revision(empty_database_url) is None
    assert not (TABLES & _tables(empty_database_url))
    upgrade(empty_database_url)
    assert TABLES <= _tables(empty_database_url)


def test_events_are_range_partitioned_by_day_on_demand(warehouse_url):
    with connect(warehouse_url) as conn:
        kind = conn.execute("SELECT relkind FROM pg_class WHERE relname = 'analytics_events'").fetchone()[0]
        assert kind == "p"  # declaratively partitioned
        name = conn.execute("SELECT analytics_ensure_event_partition(%s)", (date(2026, 3, 4),)).fetchone()[0]
        assert name == "analytics_events_p20260304"
        assert conn.execute("SELECT analytics_ensure_event_partition(%s)", (date(2026, 3, 4),)).fetchone()[0] == name
        bounds = conn.execute(
            "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = %s", (name,)
        ).fetchone()[0]
        assert "2026-03-04 00:00:00+00" in bounds and "2026-03-05 00:00:00+00" in bounds
        with pytest.raises(psycopg.errors.CheckViolation):  # no partition for that day
            conn.execute(
                "INSERT INTO analytics_events (event_time, organization_id, request_id, content_hash, object_id) "
                "VALUES ('2026-03-06T00:00:00Z', 'o', 'r', 'h', 1)"
            )


def test_ledger_refuses_counts_that_do_not_add_up(warehouse_url):
    with connect(warehouse_url) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO analytics_ingested_objects (object_key, etag, size_bytes, delivery_hour, status, "
            "lines_read, accepted, duplicates, quarantined) VALUES ('k', 'e', 1, now(), 'loaded', 5, 3, 1, 0)"
        )
