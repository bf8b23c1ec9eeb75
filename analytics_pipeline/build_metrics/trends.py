"""Daily CI duration trends per (service, command), computed in PostgreSQL.

A window of days is replaced whole in one transaction (delete, then insert from
``analytics_ci_runs``), so re-materializing a day or backfilling a month is idempotent.
Durations are of successful runs; ``runs`` and ``success_rate`` count every run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg

from analytics_pipeline.warehouse.sql import fetch_rows, load_sql


@dataclass(frozen=True)
class DurationTrend:
    """Runs and duration figures of one (service, command) over a window."""

    service: str
    command: str
    runs: int
    successful_runs: int
    success_rate: float
    duration_p50_seconds: float | None
    duration_p95_seconds: float | None
    duration_max_seconds: float | None
    commits: int


@dataclass(frozen=True)
class TrendSummary:
    """What one replacement wrote: table rows, and the figures over the whole window."""

    rows_written: int
    trends: list[DurationTrend]

    @property
    def runs(self) -> int:
        return sum(t.runs for t in self.trends)

    @property
    def successful_runs(self) -> int:
        return sum(t.successful_runs for t in self.trends)

    @property
    def services(self) -> int:
        return len({t.service for t in self.trends})


def duration_trends(conn: psycopg.Connection, first_day: date, end_day: date) -> list[DurationTrend]:
    """Per (service, command), the figures over the runs of the days ``[first_day, end_day)``."""
    return fetch_rows(conn, "build_metrics/duration_trend_window", {"first_day": first_day, "end_day": end_day},
                      DurationTrend)


def replace_duration_trends(conn: psycopg.Connection, first_day: date, end_day: date) -> TrendSummary:
    """Recompute ``analytics_ci_duration_trends`` for the days ``[first_day, end_day)`` in one transaction."""
    params = {"first_day": first_day, "end_day": end_day}
    with conn.transaction():
        conn.execute(load_sql("build_metrics/delete_duration_trends"), params)
        conn.execute(load_sql("build_metrics/replace_duration_trends"), params)
        rows = conn.execute(load_sql("build_metrics/count_duration_trend_rows"), params).fetchone()[0]
        return TrendSummary(rows_written=rows, trends=duration_trends(conn, first_day, end_day))
