"""Hourly SRE metrics against hand-computed values: percentiles, error types, agents, tools, and a
session spanning hours."""

from datetime import timedelta

import pytest

from analytics_pipeline.metrics.sre import (
    SESSION_REACH,
    replace_agent_metrics,
    replace_endpoint_metrics,
    replace_session_concurrency,
    restatement_reach,
)
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.metrics.events import at, event, insert

HOUR = at("2026-03-02 10:00")


@pytest.fixture
def conn(warehouse_url):
    with connect(warehouse_url) as conn:
        yield conn


def test_endpoint_percentiles_status_classes_and_error_types(conn):
    insert(conn, [event(HOUR + timedelta(seconds=i), "org-a", duration_ms=float(i), queue_wait_ms=float(i % 5))
                  for i in range(1, 101)]  # 1..100 ms
           + [event(HOUR, "org-a", status_code=429, error_type="rate_limited"),
              event(HOUR, "org-b", status_code=503, error_type="timeout", duration_ms=30000.0),
              event(HOUR, "org-b", status_code=502),  # an error without a type
              event(HOUR, "org-b", status_code=200, error_type="timeout"),  # a type on a success: data quality
              event(HOUR, "org-b", endpoint=None, status_code=None)])
    summary = replace_endpoint_metrics(conn, HOUR, HOUR + timedelta(hours=1))
    rows = {(org, endpoint): rest for org, endpoint, *rest in conn.execute(
        "SELECT organization_id, endpoint, request_count, status_2xx, status_4xx, status_5xx, status_unknown, "
        "rate_limited_count, latency_p50_ms, latency_p99_ms, queue_wait_p95_ms, error_types_on_non_errors "
        "FROM analytics_endpoint_hourly_metrics")}
    # org-a: 100 successes of 1..100 ms and a 429 of 100 ms: p50 of 101 values = 51, p99 = 100
    assert rows[("org-a", "/v1/chat")] == [101, 100, 1, 0, 0, 1, 51.0, 100.0, 4.0, 0]
    assert rows[(None, "/v1/chat")][:6] == [104, 101, 1, 2, 0, 1]  # every organization together
    assert rows[("org-b", "(none)")] == [1, 0, 0, 0, 1, 0, 100.0, 100.0, None, 0]
    assert rows[(None, "/v1/chat")][-1] == 1  # the timeout on a 200
    errors = sorted(conn.execute("SELECT organization_id, status_class, error_type, error_count "
                                 "FROM analytics_error_type_hourly WHERE organization_id IS NOT NULL").fetchall())
    assert errors == [("org-a", "4xx", "rate_limited", 1), ("org-b", "5xx", "(unspecified)", 1),
                      ("org-b", "5xx", "timeout", 1)]
    assert (summary.request_count, summary.server_error_count, summary.error_types_on_non_errors) == (105, 2, 1)
    assert summary.top_error_types[0][2] == 1 and len(summary.top_error_types) == 3
    assert replace_endpoint_metrics(conn, HOUR, HOUR + timedelta(hours=1)) == summary  # a rerun replaces


def test_agents_and_tools(conn):
    insert(conn, [event(HOUR, "org-a", "u1", agent_type="coding", duration_ms=100.0),
                  event(HOUR, "org-a", "u2", agent_type="coding", duration_ms=300.0, status_code=500),
                  event(HOUR, "org-b", "u1", agent_type="research", duration_ms=50.0, status_code=400),
                  event(HOUR, "org-a", "u1", tool_name="sql", duration_ms=10.0),
                  event(HOUR, "org-a", "u2", tool_name="sql", duration_ms=20.0, status_code=404),
                  event(HOUR, "org-a", "u2", tool_name="sql", duration_ms=30.0)])
    summary = replace_agent_metrics(conn, HOUR, HOUR + timedelta(hours=1))
    agents = {(org, kind): rest for org, kind, *rest in conn.execute(
        "SELECT organization_id, agent_type, invocations, failures, server_failures, duration_p50_ms, "
        "duration_p95_ms FROM analytics_agent_hourly_metrics")}
    assert agents[("org-a", "coding")] == [2, 1, 1, 200.0, 290.0]
    assert agents[(None, "research")] == [1, 1, 0, 50.0, 50.0]
    tools = conn.execute("SELECT organization_id, tool_name, invocations, failures, users, duration_p95_ms "
                         "FROM analytics_tool_hourly_usage").fetchall()
    assert tools == [("org-a", "sql", 3, 1, 2, 29.0)]
    assert (summary.invocations, summary.failures, summary.tool_calls) == (3, 2, 3)
    assert summary.by_agent_type[0][:3] == ("coding", 2, 1)


def test_a_session_spans_its_first_to_last_event_across_hours(conn):
    start = at("2026-03-02 00:00")
    insert(conn, [
        # s1: 09:30 -> 12:10 with nothing in between: open in the hours 09, 10, 11 and 12
        event("2026-03-02 09:30", "org-a", session_id="s1"), event("2026-03-02 12:10", "org-a", session_id="s1"),
        # s2 and s3 inside 10:00: s2 10:05-10:20, s3 10:20-10:40 (they meet at 10:20: both open then)
        event("2026-03-02 10:05", "org-a", session_id="s2"), event("2026-03-02 10:20", "org-a", session_id="s2"),
        event("2026-03-02 10:20", "org-a", session_id="s3"), event("2026-03-02 10:40", "org-a", session_id="s3"),
        # s4 comes back after more than a day: two sessions, not one spanning 26 hours
        event("2026-03-02 03:00", "org-b", session_id="s4"), event("2026-03-03 05:30", "org-b", session_id="s4"),
    ])
    day = replace_session_concurrency(conn, start, start + timedelta(days=2))
    peaks = {(org, bucket.hour, bucket.day): (sessions, peak, peak_at) for bucket, org, sessions, peak, peak_at in
             conn.execute("SELECT bucket_start, organization_id, sessions, peak_concurrent_sessions, peak_at "
                          "FROM analytics_session_concurrency_hourly")}
    assert peaks[("org-a", 10, 2)] == (3, 3, at("2026-03-02 10:20"))  # s1, s2, s3 at 10:20
    assert [peaks[("org-a", h, 2)][:2] for h in (9, 11, 12)] == [(1, 1), (1, 1), (1, 1)]
    assert ("org-a", 13, 2) not in peaks and ("org-a", 8, 2) not in peaks
    assert [key for key in peaks if key[0] == "org-b"] == [("org-b", 3, 2), ("org-b", 5, 3)]
    assert (day.peak_concurrent_sessions, day.peak_organization) == (3, "org-a")

    # One hour at a time gives the same as the whole window (the pieces of the other hours are in).
    whole = conn.execute("SELECT * FROM analytics_session_concurrency_hourly ORDER BY 1, 2").fetchall()
    for hour in range(48):
        replace_session_concurrency(conn, start + timedelta(hours=hour), start + timedelta(hours=hour + 1))
    hourly = conn.execute("SELECT * FROM analytics_session_concurrency_hourly ORDER BY 1, 2").fetchall()
    assert [row[:5] for row in hourly] == [row[:5] for row in whole]
    assert restatement_reach(at("2026-03-02 10:00"), at("2026-03-02 10:00")) == (
        at("2026-03-02 10:00") - SESSION_REACH - timedelta(hours=1), at("2026-03-03 10:00"))
