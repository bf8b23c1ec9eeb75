"""The metrics' reconciliation queries, for the asset checks: activity against the rollups,
DAU <= WAU <= MAU, a health score for every active organization."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg

from analytics_pipeline.warehouse.sql import fetch_rows, load_sql


@dataclass(frozen=True)
class ActivityMismatch:
    day: date
    organization_id: str
    rollup_requests: int | None
    activity_requests: int | None
    rollup_tokens: int | None
    activity_tokens: int | None


def activity_mismatches(conn: psycopg.Connection, first_day: date, end_day: date) -> tuple[list[ActivityMismatch],
                                                                                              int, int]:
    """Organization days whose activity differs from the daily rollups (at most 20), and how many
    organization days and requests the activity holds."""
    params = {"first_day": first_day, "end_day": end_day}
    mismatches = fetch_rows(conn, "metrics/activity_mismatches_against_rollups", params, ActivityMismatch)
    rows, requests = conn.execute(load_sql("metrics/activity_rows_checked"), params).fetchone()
    return mismatches, rows, requests


def trailing_activity_violations(conn: psycopg.Connection, first_day: date,
                                 end_day: date) -> list[tuple[date, str | None, int, int | None, int | None]]:
    """(day, organization or None for the platform, DAU, WAU, MAU) where DAU <= WAU <= MAU fails."""
    return conn.execute(load_sql("metrics/trailing_activity_violations"),
                        {"first_day": first_day, "end_day": end_day}).fetchall()


def organizations_without_health(conn: psycopg.Connection, first_day: date,
                                 end_day: date) -> tuple[list[tuple[date, str]], int, int]:
    """Active organization days without a health score (at most 20 shown), how many, and how many
    active organization days there are."""
    params = {"first_day": first_day, "end_day": end_day}
    rows = conn.execute(load_sql("metrics/organizations_without_health"), params).fetchall()
    active = conn.execute(load_sql("metrics/active_organization_days"), params).fetchone()[0]
    return [(day, org) for day, org, *_ in rows], (rows[0][2] if rows else 0), active
