"""How fresh the hourly rollups are, as of a given moment: the newest moment they cover.

Pure domain code (no Dagster); see :mod:`analytics_pipeline.monitoring.freshness` for why data time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from analytics_pipeline.monitoring.freshness import FreshnessReading, lookback
from analytics_pipeline.warehouse.sql import load_sql


def hourly_rollups_freshness(conn: psycopg.Connection, as_of: datetime, warn_after: timedelta,
                             fail_after: timedelta) -> FreshnessReading:
    """The newest moment the hourly rollups cover at ``as_of``: a rollup row covers its hour
    up to when it was computed. Details: the newest computation."""
    covered, computed = conn.execute(load_sql("rollups/hourly_rollups_freshness"), {
        "as_of": as_of, "since": as_of - lookback(fail_after)}).fetchone()
    return FreshnessReading(as_of, covered, warn_after, fail_after, {"newest_computation": computed})
