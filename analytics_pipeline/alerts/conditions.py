"""Rule evaluation, pure: what the rules make of one set of observations.

:func:`evaluate` takes a :class:`~analytics_pipeline.alerts.rules.RuleSet` and
:class:`Observations` (query results, read by :mod:`.observations`) and returns the
:class:`Condition` of every rule that holds now, each under its dedup key. It knows nothing of
where the observations came from: today the endpoint and organization figures come from the
raw events loaded by the S3 sensor; once the live ingest path writes the same table, the same
evaluation judges those events seconds after they arrive.

Endpoint availability is judged by the status page's own rule
(:func:`analytics_pipeline.api.portal.status.state_of`): its ``outage`` is the rule's severity
(critical), its ``degraded`` the rule's ``degraded_severity`` (warning).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from analytics_pipeline.alerts.rules import Rule, RuleSet
from analytics_pipeline.api.portal import status


@dataclass(frozen=True)
class EndpointWindow:
    """One endpoint's requests in the window."""

    endpoint: str
    requests: int
    server_errors: int
    latency_p95_ms: float | None


@dataclass(frozen=True)
class OrganizationErrors:
    """One organization's requests and 5xx answers in the window, and in its baseline before it."""

    organization_id: str
    requests: int
    server_errors: int
    baseline_requests: int
    baseline_errors: int


@dataclass(frozen=True)
class SourceActivity:
    """A ledger source that loaded objects lately: when it last did."""

    source: str
    last_loaded_at: datetime
    objects: int


@dataclass(frozen=True)
class StuckExports:
    count: int
    oldest_job_id: str | None
    oldest_created_at: datetime | None


@dataclass(frozen=True)
class ServiceMetric:
    """One metric of one service over a rule's window of minutes (CloudWatch Metric Streams)."""

    namespace: str
    service: str
    mean: float | None
    maximum: float | None
    total: float | None
    minutes: int

    def statistic(self, name: str) -> float | None:
        return {"mean": self.mean, "max": self.maximum, "sum": self.total}[name]


@dataclass(frozen=True)
class Observations:
    """What one evaluation saw, at ``now``. Per-rule readings are keyed by rule name."""

    now: datetime
    endpoints: list[EndpointWindow] = field(default_factory=list)
    organizations: dict[str, list[OrganizationErrors]] = field(default_factory=dict)
    sources: list[SourceActivity] = field(default_factory=list)
    stuck_exports: dict[str, StuckExports] = field(default_factory=dict)
    service_metrics: dict[str, list[ServiceMetric]] = field(default_factory=dict)


@dataclass(frozen=True)
class Condition:
    """A rule that holds: the dedup key it is tracked under, what it is about, and what it saw."""

    dedup_key: str
    rule: str
    severity: str
    subject: str
    summary: str
    details: dict = field(default_factory=dict)
    kind: str = ""  # the rule's kind


def dedup_key(rule: Rule, subject: str, severity: str | None = None) -> str:
    """``rule/subject`` (``rule/severity/subject`` for a rule with two severities)."""
    return "/".join(part for part in (rule.name, severity, subject) if part)


def _percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def endpoint_availability(rule: Rule, window_minutes: int, endpoints: list[EndpointWindow]) -> list[Condition]:
    found = []
    for row in endpoints:
        state = status.state_of(row.requests, row.server_errors)
        if state not in ("outage", "degraded"):
            continue
        severity = rule.severity if state == "outage" else rule["degraded_severity"]
        share = status.availability(row.requests, row.server_errors)
        found.append(Condition(
            dedup_key(rule, row.endpoint, severity), rule.name, severity, row.endpoint,
            f"{row.endpoint}: {status.LABELS[state].lower()}, {share:.2f} % "
            f"available ({row.server_errors} of {row.requests} requests answered 5xx in {window_minutes} min)",
            {"endpoint": row.endpoint, "state": state, "requests": row.requests, "server_errors": row.server_errors,
             "window_minutes": window_minutes}))
    return found


def endpoint_5xx_rate(rule: Rule, window_minutes: int, endpoints: list[EndpointWindow]) -> list[Condition]:
    found = []
    for row in endpoints:
        rate = _percent(row.server_errors, row.requests)
        if row.requests >= rule["min_requests"] and rate > rule["above_percent"]:
            found.append(Condition(
                dedup_key(rule, row.endpoint), rule.name, rule.severity, row.endpoint,
                f"{row.endpoint}: {rate:.2f} % of {row.requests} requests answered 5xx in {window_minutes} min "
                f"(above {rule['above_percent']} %)",
                {"endpoint": row.endpoint, "requests": row.requests, "server_errors": row.server_errors,
                 "rate_percent": round(rate, 4)}))
    return found


def endpoint_p95_latency(rule: Rule, window_minutes: int, endpoints: list[EndpointWindow]) -> list[Condition]:
    found = []
    for row in endpoints:
        p95 = row.latency_p95_ms
        if p95 is not None and row.requests >= rule["min_requests"] and p95 > rule["above_ms"]:
            found.append(Condition(
                dedup_key(rule, row.endpoint), rule.name, rule.severity, row.endpoint,
                f"{row.endpoint}: p95 latency {p95:,.0f} ms over {window_minutes} min (above {rule['above_ms']:,} ms)",
                {"endpoint": row.endpoint, "requests": row.requests, "latency_p95_ms": round(p95, 3)}))
    return found


def organization_error_rate(rule: Rule, window_minutes: int, rows: list[OrganizationErrors]) -> list[Condition]:
    found = []
    for row in rows:
        rate = _percent(row.server_errors, row.requests)
        baseline = _percent(row.baseline_errors, row.baseline_requests)
        if (row.server_errors >= rule["min_errors"] and rate > baseline * rule["factor"]
                and rate - baseline >= rule["min_increase_percent"]):
            found.append(Condition(
                dedup_key(rule, row.organization_id), rule.name, rule.severity, row.organization_id,
                f"{row.organization_id}: {rate:.2f} % of its requests answered 5xx in {window_minutes} min, against "
                f"{baseline:.2f} % over its last {rule['baseline_hours']} h",
                {"organization_id": row.organization_id, "requests": row.requests,
                 "server_errors": row.server_errors, "rate_percent": round(rate, 4),
                 "baseline_percent": round(baseline, 4), "baseline_requests": row.baseline_requests}))
    return found


def ingestion_stalled(rule: Rule, now: datetime, sources: list[SourceActivity]) -> list[Condition]:
    found = []
    expected_since = now - timedelta(hours=rule["expected_hours"])
    stalled_since = now - timedelta(minutes=rule["stalled_minutes"])
    for row in sources:
        if expected_since <= row.last_loaded_at < stalled_since:
            minutes = int((now - row.last_loaded_at).total_seconds() // 60)
            found.append(Condition(
                dedup_key(rule, row.source), rule.name, rule.severity, row.source,
                f"ingestion from {row.source} stalled: nothing loaded for {minutes} min "
                f"({row.objects} object(s) in the {rule['expected_hours']} h before)",
                {"source": row.source, "last_loaded_at": row.last_loaded_at.isoformat(),
                 "minutes_since": minutes}))
    return found


def export_queue_stuck(rule: Rule, now: datetime, stuck: StuckExports | None) -> list[Condition]:
    if stuck is None or not stuck.count:
        return []
    minutes = int((now - stuck.oldest_created_at).total_seconds() // 60)
    return [Condition(
        dedup_key(rule, "exports"), rule.name, rule.severity, "exports",
        f"{stuck.count} export job(s) pending over {rule['pending_minutes']} min without a run (the oldest, "
        f"{stuck.oldest_job_id}, for {minutes} min): is the Dagster daemon running export_request_sensor?",
        {"count": stuck.count, "oldest_job_id": stuck.oldest_job_id, "minutes": minutes})]


def service_metric_above(rule: Rule, rows: list[ServiceMetric]) -> list[Condition]:
    found = []
    for row in rows:
        value = row.statistic(rule["statistic"])
        if value is not None and value > rule["above"]:
            subject = f"{row.namespace}/{row.service}"
            found.append(Condition(
                dedup_key(rule, subject), rule.name, rule.severity, subject,
                f"{subject}: {rule['metric_name']} {rule['statistic']} {value:,.2f} over {rule['minutes']} min "
                f"(above {rule['above']:,})",
                {"namespace": row.namespace, "service": row.service, "metric_name": rule["metric_name"],
                 "statistic": rule["statistic"], "value": round(value, 4), "minutes": row.minutes}))
    return found


def _conditions_of(rule: Rule, rules: RuleSet, seen: Observations) -> list[Condition]:
    if rule.kind == "endpoint_availability":
        return endpoint_availability(rule, rules.window_minutes, seen.endpoints)
    if rule.kind == "endpoint_5xx_rate":
        return endpoint_5xx_rate(rule, rules.window_minutes, seen.endpoints)
    if rule.kind == "endpoint_p95_latency":
        return endpoint_p95_latency(rule, rules.window_minutes, seen.endpoints)
    if rule.kind == "organization_error_rate":
        return organization_error_rate(rule, rules.window_minutes, seen.organizations.get(rule.name, []))
    if rule.kind == "ingestion_stalled":
        return ingestion_stalled(rule, seen.now, seen.sources)
    if rule.kind == "export_queue_stuck":
        return export_queue_stuck(rule, seen.now, seen.stuck_exports.get(rule.name))
    if rule.kind == "service_metric_above":
        return service_metric_above(rule, seen.service_metrics.get(rule.name, []))
    raise ValueError(f"unknown kind of rule {rule.kind!r}")


def evaluate(rules: RuleSet, seen: Observations) -> list[Condition]:
    """Every condition that holds, in rule order, each marked with its rule's kind."""
    return [replace(condition, kind=rule.kind) for rule in rules.rules
            for condition in _conditions_of(rule, rules, seen)]
