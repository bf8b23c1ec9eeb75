"""What the pages read, through the SQL files of ``sql/portal/`` with bound parameters: the
rollups and the metrics tables, never the raw events. Each function takes a connection and
returns plain rows; the SQL text is composed once per process."""

from __future__ import annotations

import functools
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

import psycopg
from psycopg import sql

from analytics_pipeline.rollups.usage import Granularity
from analytics_pipeline.warehouse.sql import compose_sql, load_sql


@functools.cache
def _rollup_query(name: str, granularity: Granularity) -> str:
    return compose_sql(name, rollup_table=sql.Identifier(granularity.table)).as_string()


class UsageBucket(NamedTuple):
    bucket_start: datetime
    request_count: int
    tokens_input: int
    tokens_output: int
    tokens_total: int
    error_count: int
    cost_total: Decimal


def usage_by_bucket(conn: psycopg.Connection, granularity: Granularity, organization_id: str, start: datetime,
                    end: datetime) -> list[UsageBucket]:
    """The organization's requests, tokens, errors and cost per hour or day of ``[start, end)``, every model
    together (buckets without usage are absent)."""
    rows = conn.execute(_rollup_query("portal/org_usage_by_bucket", granularity),
                        {"organization_id": organization_id, "range_start": start, "range_end": end})
    return [UsageBucket(*row) for row in rows.fetchall()]


def latest_usage_day(conn: psycopg.Connection, organization_id: str, before: datetime) -> date | None:
    """The last day before ``before`` with usage of the organization (None: none)."""
    (moment,) = conn.execute(load_sql("portal/org_latest_usage_day"),
                             {"organization_id": organization_id, "before": before}).fetchone()
    return moment.date() if moment else None


class EndpointDay(NamedTuple):
    endpoint: str
    bucket_start: datetime
    request_count: int
    error_count: int
    server_error_count: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None


def endpoint_performance(conn: psycopg.Connection, organization_id: str, start: datetime,
                         end: datetime) -> list[EndpointDay]:
    rows = conn.execute(load_sql("portal/org_endpoint_performance"),
                        {"organization_id": organization_id, "range_start": start, "range_end": end})
    return [EndpointDay(*row) for row in rows.fetchall()]


class ModelCost(NamedTuple):
    model_id: str | None
    request_count: int
    tokens_total: int
    cost_total: Decimal


def cost_by_model(conn: psycopg.Connection, organization_id: str, start: datetime, end: datetime) -> list[ModelCost]:
    rows = conn.execute(load_sql("portal/org_cost_by_model"),
                        {"organization_id": organization_id, "range_start": start, "range_end": end})
    return [ModelCost(*row) for row in rows.fetchall()]
