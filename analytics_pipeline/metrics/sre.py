"""Hourly SRE metrics, computed in PostgreSQL from the raw events.

Per hour, per endpoint, for each organization and for every organization together (the rows
without organization):

* requests by status class (2xx, 3xx, 4xx, 5xx, unknown), 429s, exact p50/p95/p99 latency and
  queue-wait percentiles, and error types sent on non-error statuses (a data-quality figure);
* errors (status >= 400) by status class and ``error_type`` (``(unspecified)`` without one);
  a rate is their count over the endpoint's requests of the hour;

per agent type (events with an ``agent_type``): invocations, failures (status >= 400; server
failures >= 500) and duration p50/p95/p99; per organization and tool: tool calls, failures,
distinct users and the p95 duration; per organization: the sessions open in the hour and the
peak of sessions open at once (:data:`SESSION_REACH`).

Every window of hours is replaced whole in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg import sql

from analytics_pipeline.delivery.ledger import hours_behind_ledger
from analytics_pipeline.metrics.activity import execute_by_day, refuse_dropped_days, set_work_mem
from analytics_pipeline.warehouse.sql import compose_sql, load_sql

#: A session spans its first to its last event; a gap of more than this without an event ends it.
#: It is also how far around an hour a session's events are looked for, so an hour's concurrency is
#: final once the events of the day after it are in (the restatement sensor restates that reach).
SESSION_REACH = timedelta(hours=24)


@dataclass(frozen=True)
class EndpointSummary:
    rows: int
    request_count: int
    server_error_count: int
    worst_p99_ms: float | None
    error_type_rows: int
    error_types_on_non_errors: int
    top_error_types: list[tuple[str, str, int]]  # (status class, error type, errors), most frequent first


@dataclass(frozen=True)
class AgentSummary:
    agent_rows: int
    invocations: int
    failures: int
    worst_p95_ms: float | None
    tool_rows: int
    tool_calls: int
    by_agent_type: list[tuple[str, int, int, float | None]]  # (type, invocations, failures, p95 of the hours)


@dataclass(frozen=True)
class SessionSummary:
    pieces: int
    rows: int
    peak_concurrent_sessions: int
    peak_organization: str | None
    peak_at: datetime | None


def _window(start: datetime, end: datetime) -> dict:
    return {"range_start": start, "range_end": end}


def _replace_hours(conn: psycopg.Connection, start: datetime, end: datetime, work_mem: str | None, *,
                   delete: str, inserts: tuple[str, ...], totals: str, details: str) -> tuple[tuple, list[tuple]]:
    """Delete the hours of ``[start, end)`` and insert them again (day by day), in one transaction;
    then the window's totals (one row) and its details (rows), each a query of ``sql/metrics/``."""
    params = _window(start, end)
    with conn.transaction():
        refuse_dropped_days(conn, start, end)
        set_work_mem(conn, work_mem)
        conn.execute(load_sql(f"metrics/{delete}"), params)
        for insert in inserts:
            execute_by_day(conn, load_sql(f"metrics/{insert}"), params, start, end)
        return (conn.execute(load_sql(f"metrics/{totals}"), params).fetchone(),
                conn.execute(load_sql(f"metrics/{details}"), params).fetchall())


def replace_endpoint_metrics(conn: psycopg.Connection, start: datetime, end: datetime, *,
                             work_mem: str | None = None) -> EndpointSummary:
    """Recompute the endpoint and error-type rows of the hours of ``[start, end)``."""
    totals, top = _replace_hours(conn, start, end, work_mem, delete="delete_endpoint_hourly_metrics",
                                 inserts=("insert_endpoint_hourly_metrics", "insert_error_type_hourly"),
                                 totals="endpoint_hourly_summary", details="top_error_types")
    return EndpointSummary(*totals, top)


def replace_agent_metrics(conn: psycopg.Connection, start: datetime, end: datetime, *,
                          work_mem: str | None = None) -> AgentSummary:
    """Recompute the agent and tool rows of the hours of ``[start, end)``."""
    totals, by_type = _replace_hours(conn, start, end, work_mem, delete="delete_agent_hourly_metrics",
                                     inserts=("insert_agent_hourly_metrics", "insert_tool_hourly_usage"),
                                     totals="agent_hourly_summary", details="agent_types_summary")
    return AgentSummary(*totals, by_type)


def session_concurrency_sql() -> sql.Composed:
    """insert_session_concurrency.sql with its reach, a fixed interval literal."""
    return compose_sql("metrics/insert_session_concurrency", reach=sql.Literal(SESSION_REACH))


def replace_session_concurrency(conn: psycopg.Connection, start: datetime, end: datetime, *,
                                work_mem: str | None = None) -> SessionSummary:
    """Recompute the session pieces and the concurrency of the hours of ``[start, end)`` (from the
    pieces within :data:`SESSION_REACH` of the window, written by earlier runs or this one)."""
    params = _window(start, end)
    with conn.transaction():
        refuse_dropped_days(conn, start, end)
        set_work_mem(conn, work_mem)
        conn.execute(load_sql("metrics/delete_session_hours"), params)
        pieces = execute_by_day(conn, load_sql("metrics/insert_session_hours"), params, start, end)
        rows = execute_by_day(conn, session_concurrency_sql(), params, start, end)  # reads the pieces around it
        peak = conn.execute(load_sql("metrics/session_concurrency_peak"), params).fetchone()
    return SessionSummary(pieces, rows, *(peak or (0, None, None)))


def restatement_reach(first_hour: datetime, last_hour: datetime) -> tuple[datetime, datetime]:
    """The hours whose concurrency events in ``[first_hour, last_hour]`` can change: a session's
    span reaches :data:`SESSION_REACH` (plus its hour) either side."""
    hour = timedelta(hours=1)
    return first_hour - SESSION_REACH - hour, last_hour + SESSION_REACH


def stale_sre_hours(conn: psycopg.Connection, hours: list[datetime]) -> list[datetime]:
    """The hours among ``hours`` whose SRE metrics lag their events: their platform-wide requests
    differ from the ingest ledger's events (delivery.ledger.hours_behind_ledger)."""
    return hours_behind_ledger(conn, hours, compose_sql("metrics/platform_endpoint_requests"))
