"""How fresh the raw usage events are, as of a given moment: the newest event time stored.

Pure domain code (no Dagster); see :mod:`analytics_pipeline.monitoring.freshness` for why data time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from analytics_pipeline.ingestion.loader import USAGE_LOGS_SOURCE
from analytics_pipeline.monitoring.freshness import FreshnessReading, lookback
from analytics_pipeline.warehouse.sql import load_sql


def raw_events_freshness(conn: psycopg.Connection, as_of: datetime, warn_after: timedelta, fail_after: timedelta,
                         source: str = USAGE_LOGS_SOURCE) -> FreshnessReading:
    """The newest event time stored at or before ``as_of``; details: the newest ingestion and
    the newest delivery hour loaded (a loader that runs but finds only old events shows here)."""
    newest, ingestion, delivery_hour = conn.execute(load_sql("ingestion/raw_events_freshness"), {
        "as_of": as_of, "since": as_of - lookback(fail_after), "source": source}).fetchone()
    return FreshnessReading(as_of, newest, warn_after, fail_after,
                            {"newest_ingestion": ingestion, "newest_delivery_hour": delivery_hour})
