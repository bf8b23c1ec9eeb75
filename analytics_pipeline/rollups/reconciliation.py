"""Reconciliation of rollups: against the raw events, and daily against hourly."""

from __future__ import annotations

from datetime import datetime

import psycopg

from analytics_pipeline.rollups.usage import Granularity, rollup_sql


def rollup_mismatches_against_events(conn: psycopg.Connection, granularity: Granularity,
                                     start: datetime, end: datetime) -> list[tuple]:
    """Up to 20 rollup rows that differ from a fresh aggregation of the window's raw events."""
    return conn.execute(rollup_sql("rollups/rollup_mismatches_against_events", granularity),
                        {"range_start": start, "range_end": end}).fetchall()


def daily_mismatches_against_hourly(conn: psycopg.Connection, start: datetime, end: datetime) -> list[tuple]:
    """Up to 20 daily rows whose additive measures differ from the sum of their hours."""
    return conn.execute(rollup_sql("rollups/daily_mismatches_against_hourly", Granularity.DAILY),
                        {"range_start": start, "range_end": end}).fetchall()
