"""What the rules judge, read from the warehouse at one moment (the SQL in ``sql/alerts/``).

Endpoint and organization figures are read from the raw events of the trailing window (the
live path, once it lands, writes the same table, so nothing here changes); organization
baselines from the hourly SRE metrics; ingestion activity from the ingestion ledger (one
source per ledger ``source``); stuck exports by the exports domain's own query; the platform's
resources from the CloudWatch Metric Streams minutes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from analytics_pipeline.alerts.conditions import (
    EndpointWindow,
    Observations,
    OrganizationErrors,
    ServiceMetric,
    SourceActivity,
    StuckExports,
)
from analytics_pipeline.alerts.rules import RuleSet
from analytics_pipeline.exports.export_jobs import stuck_jobs
from analytics_pipeline.warehouse.sql import fetch_rows, load_sql


def endpoint_window(conn: psycopg.Connection, start: datetime, end: datetime) -> list[EndpointWindow]:
    """Per endpoint, requests, 5xx and p95 latency of events in ``[start, end)``."""
    rows = conn.execute(load_sql("alerts/endpoint_window"), {"window_start": start, "window_end": end})
    return [EndpointWindow(endpoint, int(requests), int(errors), p95) for endpoint, requests, errors, p95 in rows]


def observe(conn: psycopg.Connection, rules: RuleSet, now: datetime) -> Observations:
    """Everything ``rules`` need, as of ``now`` (only the readings some rule asks for)."""
    window_start = now - timedelta(minutes=rules.window_minutes)
    kinds = {rule.kind for rule in rules.rules}
    endpoints = (endpoint_window(conn, window_start, now)
                 if kinds & {"endpoint_availability", "endpoint_5xx_rate", "endpoint_p95_latency"} else [])
    organizations = {}
    for rule in rules.of_kind("organization_error_rate"):
        organizations[rule.name] = fetch_rows(conn, "alerts/organization_error_rates", {
            "window_start": window_start, "window_end": now,
            "baseline_start": window_start - timedelta(hours=rule["baseline_hours"])}, OrganizationErrors)
    sources = []
    stalled = rules.of_kind("ingestion_stalled")
    if stalled:
        expected_since = now - timedelta(hours=max(rule["expected_hours"] for rule in stalled))
        sources = fetch_rows(conn, "alerts/source_activity", {"expected_since": expected_since, "now": now},
                             SourceActivity)
    stuck = {}
    for rule in rules.of_kind("export_queue_stuck"):
        found = stuck_jobs(conn, now, timedelta(minutes=rule["pending_minutes"]))
        stuck[rule.name] = StuckExports(found.count, str(found.oldest_job_id) if found.oldest_job_id else None,
                                        found.oldest_created_at)
    service_metrics = {}
    for rule in rules.of_kind("service_metric_above"):
        service_metrics[rule.name] = fetch_rows(conn, "alerts/service_metric_window", {
            "metric_name": rule["metric_name"], "window_start": now - timedelta(minutes=rule["minutes"]),
            "window_end": now}, ServiceMetric)
    return Observations(now=now, endpoints=endpoints, organizations=organizations, sources=sources,
                        stuck_exports=stuck, service_metrics=service_metrics)
