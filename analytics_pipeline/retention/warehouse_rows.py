"""Deleting rollup and quarantine rows past retention."""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg import sql

from analytics_pipeline.retention.policy import Cutoffs
from analytics_pipeline.retention.report import ActionReport, age_days, iso
from analytics_pipeline.warehouse.sql import compose_sql

#: (table, time column): the rollups kept ``rollup_retention_months``, deleted by whole months.
ROLLUP_TABLES = (
    ("analytics_hourly_rollups", "bucket_start"),
    ("analytics_daily_rollups", "bucket_start"),
    ("analytics_endpoint_daily_rollups", "bucket_start"),
)
QUARANTINE_TABLE = ("analytics_quarantine", "quarantined_at")


def _expire_rows(conn: psycopg.Connection, tables: tuple[tuple[str, str], ...], cutoff: datetime,
                 report: ActionReport, now: datetime) -> None:
    name = "count_expired_rows" if report.dry_run else "delete_expired_rows"
    total = 0
    oldest: datetime | None = None
    with conn.transaction():  # all tables or none
        for table, time_column in tables:
            # Table and column names come from the constants above, never from input.
            query = compose_sql(f"retention/{name}", table=sql.Identifier(table),
                                time_column=sql.Identifier(time_column))
            count, first, last = conn.execute(query, {"cutoff": cutoff}).fetchone()
            total += count
            oldest = first if oldest is None or (first is not None and first < oldest) else oldest
            report.items.append({"table": table, "action": report.verb("deleted", "would delete"), "rows": count,
                                 "oldest": iso(first), "newest": iso(last), "oldest_age_days": age_days(first, now)})
            report.figures[f"{table.removeprefix('analytics_')}_rows_deleted"] = count
    report.figures.update({"rows_deleted": total, "oldest_deleted": iso(oldest),
                           "oldest_age_days": age_days(oldest, now), "deleted_before": cutoff.isoformat()})


def delete_expired_rollups(conn: psycopg.Connection, cutoffs: Cutoffs, dry_run: bool = False) -> ActionReport:
    """Hourly, daily and endpoint rollups with buckets before ``cutoffs.rollups_before`` (a
    month start: 13 complete months stay)."""
    report = ActionReport("delete_expired_rollups", dry_run)
    _expire_rows(conn, ROLLUP_TABLES, cutoffs.rollups_before, report, cutoffs.now)
    return report


def delete_expired_quarantine(conn: psycopg.Connection, cutoffs: Cutoffs, dry_run: bool = False) -> ActionReport:
    """Quarantined lines recorded before ``cutoffs.quarantine_before``; the ingest ledger keeps
    their per-object counts."""
    report = ActionReport("delete_expired_quarantine", dry_run)
    _expire_rows(conn, (QUARANTINE_TABLE,), cutoffs.quarantine_before, report, cutoffs.now)
    return report
