"""The pipeline's own alerts: failed runs and asset checks that failed or warned (budgets among
them), recorded in the same alert store as the platform rules' alerts and sent by the same outbox.

A failure is an **event**, not a condition that holds, so its lifecycle is short:

* it **fires** once, when recorded: an ``analytics_alerts`` row (status ``firing``), a ``fired``
  history row and one outbox row per receiver of its severity (:mod:`.routing`), all in the caller's
  transaction. Its dedup key names the event itself (``run_failure/<run id>``,
  ``asset_check/<asset>/<check>/<partition>/<evaluation id>``), so recording it again (a sensor tick
  evaluated twice) adds nothing: the key is already stored;
* it is never re-notified (the platform rules' lifecycle, which re-notifies and resolves conditions,
  leaves these rules alone);
* it **resolves** (one resolve notification: PagerDuty closes the incident) when what failed
  succeeds again: the next successful run of the same job for the same partition, the next passing
  evaluation of the same check for the same partition. Several failures of one subject open before
  that success all resolve with it. It can be acknowledged like any other alert.

Severity: a failed run is ``critical`` (the data it was to produce is missing or late: someone is
paged); a failed check is ``critical`` for ``ERROR`` checks and ``warning`` for ``WARN`` ones, so a
budget check pages or posts by its own severity.

Pure: no Dagster. The sensors in ``analytics_pipeline.defs.alerts.sensors`` turn Dagster events into
:class:`PipelineAlert` and call :func:`record_alerts` / :func:`resolve_subjects`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from analytics_pipeline.alerts.lifecycle import FIRED, FIRING, RESOLVED, RESOLVED_EVENT, record_notification
from analytics_pipeline.alerts.messages import (
    MAX_ERROR_CHARS,
    FieldValue,
    asset_checks_url,
    clip,
    run_url,
    visible_tags,
)
from analytics_pipeline.alerts.routing import PIPELINE_RULES, Routes
from analytics_pipeline.warehouse.sql import load_sql

RUN_FAILURE, ASSET_CHECK = PIPELINE_RULES  # the platform rules may not take these names


@dataclass(frozen=True)
class PipelineAlert:
    """One failed run or failed/warning check evaluation, ready to record."""

    dedup_key: str
    rule: str  # RUN_FAILURE | ASSET_CHECK
    severity: str  # critical | warning
    subject: str  # what a later success resolves: job (and partition), or asset/check (and partition)
    summary: str
    details: dict = field(default_factory=dict)  # JSON: what the receivers show, and what resolving needs


def run_subject(job_name: str, partition: str | None) -> str:
    return f"{job_name}[{partition}]" if partition else job_name


def check_subject(asset_path: Sequence[str], check_name: str, partition: str | None) -> str:
    subject = f"{'/'.join(asset_path)}:{check_name}"
    return f"{subject}[{partition}]" if partition else subject


def run_failure_alert(*, ui_url: str, job_name: str, run_id: str, error: str, partition: str | None,
                      tags: Mapping[str, str], partition_tags: Mapping[str, str], failed_at: datetime) -> PipelineAlert:
    """The alert of a failed run: critical. ``partition_tags``: the run's partition (or range) tags, which a
    successful run must share to resolve it."""
    title = f"Run of {job_name} failed" + (f" (partition {partition})" if partition else "")
    details: dict = {
        "kind": RUN_FAILURE, "job": job_name, "run_id": run_id, "partition": partition,
        "failed_at": failed_at.isoformat(), "link": run_url(ui_url, run_id),
        "error": clip(error.strip() or "no error message", MAX_ERROR_CHARS), "partition_tags": dict(partition_tags)}
    details.update({f"tag {k}": v for k, v in visible_tags(tags).items()})
    return PipelineAlert(dedup_key=f"{RUN_FAILURE}/{run_id}", rule=RUN_FAILURE, severity="critical",
                         subject=run_subject(job_name, partition), summary=f"{title}: {details['error']}",
                         details=details)


def check_severity(is_error: bool) -> str:
    """A failed ERROR check pages (critical); a WARN check that did not pass is a warning."""
    return "critical" if is_error else "warning"


def asset_check_alert(*, ui_url: str, asset_path: Sequence[str], check_name: str, is_error: bool,
                      description: str | None, partition: str | None, run_id: str | None, evaluation_id: int,
                      metadata: Mapping[str, FieldValue]) -> PipelineAlert:
    """The alert of a check evaluation that failed (``is_error``) or warned."""
    asset = "/".join(asset_path)
    title = (f"Check {check_name} on {asset} {'failed' if is_error else 'warned'}"
             + (f" (partition {partition})" if partition else ""))
    text = clip((description or "").strip(), MAX_ERROR_CHARS)
    details: dict[str, FieldValue] = {
        "kind": ASSET_CHECK, "check": check_name, "asset": asset, "partition": partition, "run_id": run_id,
        "evaluation_id": evaluation_id, "link": asset_checks_url(ui_url, asset_path, check_name),
        "description": text}
    details.update({name: value for name, value in metadata.items() if name not in details})
    return PipelineAlert(
        dedup_key=f"{ASSET_CHECK}/{asset}/{check_name}/{partition or '-'}/{evaluation_id}", rule=ASSET_CHECK,
        severity=check_severity(is_error), subject=check_subject(asset_path, check_name, partition),
        summary=f"{title}: {text}" if text else title, details=details)


@dataclass
class RecordReport:
    """What one call recorded: dedup keys fired, already stored (not recorded again), resolved."""

    fired: list[str] = field(default_factory=list)
    already_recorded: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    deliveries_enqueued: int = 0

    def describe(self) -> str:
        text = f"recorded {len(self.fired)} alert(s), resolved {len(self.resolved)}"
        if self.already_recorded:
            text += f"; {len(self.already_recorded)} already recorded"
        return text + f"; {self.deliveries_enqueued} delivery(ies) queued"


def record_alert(conn: psycopg.Connection, routes: Routes, alert: PipelineAlert, *, now: datetime,
                 report: RecordReport) -> None:
    """Fire ``alert`` unless its dedup key is stored already. Call inside a transaction holding the
    alert lock (:func:`lock_alerts`)."""
    stored = conn.execute(load_sql("alerts/record_event_alert"), {
        "dedup_key": alert.dedup_key, "rule": alert.rule, "severity": alert.severity, "status": FIRING,
        "subject": alert.subject, "summary": alert.summary, "details": Jsonb(alert.details),
        "now": now}).fetchone()
    if stored is None:
        report.already_recorded.append(alert.dedup_key)
        return
    report.fired.append(alert.dedup_key)
    report.deliveries_enqueued += record_notification(
        conn, routes, event=FIRED, dedup_key=alert.dedup_key, rule=alert.rule, severity=alert.severity,
        subject=alert.subject, summary=alert.summary, details=alert.details, now=now)


def resolve_subjects(conn: psycopg.Connection, routes: Routes, rule: str, subjects: Iterable[str], *,
                     now: datetime, report: RecordReport, before: datetime | None = None) -> None:
    """Resolve the open alerts of ``rule`` about ``subjects`` (fired before ``before``, if given): what
    failed has succeeded since. Call inside a transaction holding the alert lock."""
    for subject in sorted(set(subjects)):
        rows = conn.execute(load_sql("alerts/resolve_event_alerts"), {
            "rule": rule, "subject": subject, "status": RESOLVED, "before": before, "now": now}).fetchall()
        for dedup_key, severity, summary, details in rows:
            report.resolved.append(dedup_key)
            report.deliveries_enqueued += record_notification(
                conn, routes, event=RESOLVED_EVENT, dedup_key=dedup_key, rule=rule, severity=severity,
                subject=subject, summary=f"resolved: {summary}",
                details={"kind": rule, "link": details.get("link"), "resolved_at": now.isoformat()}, now=now)


def lock_alerts(conn: psycopg.Connection) -> None:
    """Serialise with the platform evaluation and the other sensor (one writer of alerts at a time)."""
    conn.execute(load_sql("alerts/lock_alert_evaluation"))


def open_run_failures(conn: psycopg.Connection) -> list[tuple[str, dict]]:
    """The failed-run alerts still open: (subject, details) each, oldest first."""
    return [(subject, details) for subject, details in conn.execute(load_sql("alerts/open_event_alerts"),
                                                                   {"rule": RUN_FAILURE})]
