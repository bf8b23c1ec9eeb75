"""Usage rollups per (bucket, organization, model), computed in PostgreSQL.

A window is replaced whole in one transaction (delete, then insert from raw events), so a
re-materialization, a late-data restatement or a month backfill is idempotent.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import psycopg

from analytics_pipeline.warehouse.sql import load_sql


class Granularity(enum.StrEnum):
    HOURLY = "hourly"
    DAILY = "daily"

    @property
    def table(self) -> str:
        return {"hourly": "analytics_hourly_rollups", "daily": "analytics_daily_rollups"}[self.value]

    @property
    def bucket(self) -> str:
        return {"hourly": "hour", "daily": "day"}[self.value]


def rollup_sql(name: str, granularity: Granularity) -> str:
    """The text of a rollup query for ``granularity``."""
    # Only identifiers fixed by the Granularity enum are formatted in; values are bound.
    return load_sql(name).format(
        rollup_table=granularity.table, bucket=granularity.bucket, priced_events=load_sql("rollups/priced_events")
    )


@dataclass(frozen=True)
class RollupTotals:
    row_count: int
    organizations: int
    request_count: int
    tokens_total: int
    error_count: int
    cost_total: Decimal


def rollup_totals(conn: psycopg.Connection, granularity: Granularity, start: datetime, end: datetime) -> RollupTotals:
    row = conn.execute(rollup_sql("rollups/usage_rollup_totals", granularity),
                       {"range_start": start, "range_end": end}).fetchone()
    return RollupTotals(*row)


def replace_usage_rollups(conn: psycopg.Connection, granularity: Granularity, start: datetime,
                          end: datetime) -> RollupTotals:
    """Recompute the rollups of ``[start, end)`` from raw events, in one transaction."""
    params = {"range_start": start, "range_end": end}
    with conn.transaction():
        conn.execute(rollup_sql("rollups/delete_usage_rollups", granularity), params)
        conn.execute(rollup_sql("rollups/replace_usage_rollups", granularity), params)
        return rollup_totals(conn, granularity, start, end)


@dataclass(frozen=True)
class EndpointRollupSummary:
    row_count: int
    endpoints: int
    request_count: int
    server_error_count: int
    worst_p99_ms: float | None


def replace_endpoint_rollups(conn: psycopg.Connection, start: datetime, end: datetime) -> EndpointRollupSummary:
    """Recompute the per-endpoint daily performance rollups of ``[start, end)`` in one transaction."""
    params = {"range_start": start, "range_end": end}
    with conn.transaction():
        conn.execute(load_sql("rollups/delete_endpoint_rollups"), params)
        conn.execute(load_sql("rollups/replace_endpoint_rollups"), params)
        return EndpointRollupSummary(*conn.execute(load_sql("rollups/endpoint_rollup_summary"), params).fetchone())
