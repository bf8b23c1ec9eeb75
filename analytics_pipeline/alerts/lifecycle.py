"""The lifecycle of an alert, kept in PostgreSQL under its dedup key: ``pending`` -> ``firing``
(-> ``acknowledged``) -> ``resolved``.

* A condition seen for the first time is ``pending``; once it has held for the hold time it
  **fires**: one notification. While it goes on, nothing more is sent until the re-notify
  interval has passed since the last notification (then one reminder); an acknowledged alert
  sends no reminders.
* A condition that stops holding is not resolved at once: it must stay clear for the hold time
  too, then the alert **resolves** (one resolve notification). A pending condition that clears
  before firing is forgotten without a word. So a flapping condition neither pages nor resolves
  on every evaluation.
* Each transition is a row of the alert history; each notification is one outbox row per
  receiver (:mod:`.routing`), written in the same transaction as the state, so an evaluation
  that fails half-way has notified nobody and a committed one cannot lose its notifications.

:func:`step` is the pure rule of it; :func:`apply_conditions` applies it to the stored alerts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg
from psycopg.types.json import Jsonb

from analytics_pipeline.alerts.conditions import Condition
from analytics_pipeline.alerts.routing import PIPELINE_RULES, RESOLVE, TRIGGER, Routes, payload_for
from analytics_pipeline.warehouse.sql import fetch_rows, load_sql

PENDING, FIRING, ACKNOWLEDGED, RESOLVED = "pending", "firing", "acknowledged", "resolved"
FIRED, RENOTIFIED, RESOLVED_EVENT = "fired", "renotified", "resolved"


@dataclass(frozen=True)
class Policy:
    """How long a condition must hold (and stay clear) before it notifies (resolves), and how often
    a firing alert is sent again."""

    hold: timedelta = timedelta(seconds=60)
    renotify: timedelta = timedelta(minutes=60)


@dataclass(frozen=True)
class Tracked:
    """An alert not resolved, as stored."""

    dedup_key: str
    rule: str
    severity: str
    status: str
    subject: str | None
    summary: str
    first_seen_at: datetime
    fired_at: datetime | None
    last_notified_at: datetime | None
    clear_since: datetime | None
    acknowledged_at: datetime | None


@dataclass(frozen=True)
class Step:
    """What one evaluation does to one alert: its new status (None: forget a pending condition),
    the notification it sends (None: none), and its new times."""

    status: str | None
    notify: str | None
    first_seen_at: datetime | None = None
    fired_at: datetime | None = None
    last_notified_at: datetime | None = None
    clear_since: datetime | None = None
    resolved_at: datetime | None = None


def step(tracked: Tracked | None, holds: bool, now: datetime, policy: Policy) -> Step | None:
    """The next state of an alert whose condition ``holds`` (or not) at ``now``; None: unchanged
    and nothing stored (a condition not holding and not tracked)."""
    if tracked is None:
        if not holds:
            return None
        if policy.hold <= timedelta(0):
            return Step(FIRING, FIRED, now, now, now)
        return Step(PENDING, None, now)
    kept = dict(first_seen_at=tracked.first_seen_at, fired_at=tracked.fired_at,
                last_notified_at=tracked.last_notified_at)
    if tracked.status == PENDING:
        if not holds:
            return Step(None, None)
        if now - tracked.first_seen_at >= policy.hold:
            return Step(FIRING, FIRED, tracked.first_seen_at, now, now)
        return Step(PENDING, None, **kept)
    # firing or acknowledged
    if holds:
        if tracked.status == FIRING and now - tracked.last_notified_at >= policy.renotify:
            return Step(FIRING, RENOTIFIED, tracked.first_seen_at, tracked.fired_at, now)
        return Step(tracked.status, None, **kept)
    clear_since = tracked.clear_since or now
    if now - clear_since >= policy.hold:
        return Step(RESOLVED, RESOLVED_EVENT, **kept, clear_since=clear_since, resolved_at=now)
    return Step(tracked.status, None, **kept, clear_since=clear_since)


@dataclass
class EvaluationReport:
    """What one evaluation did (dedup keys per outcome)."""

    conditions: int = 0
    pending: list[str] = field(default_factory=list)
    fired: list[str] = field(default_factory=list)
    renotified: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    deliveries_enqueued: int = 0

    def describe(self) -> str:
        return (f"{self.conditions} condition(s); fired {len(self.fired)}, re-notified {len(self.renotified)}, "
                f"resolved {len(self.resolved)}, pending {len(self.pending)}; "
                f"{self.deliveries_enqueued} delivery(ies) queued")


def record_notification(conn: psycopg.Connection, routes: Routes, *, event: str, dedup_key: str, rule: str,
                        severity: str, subject: str, summary: str, details: dict, now: datetime) -> int:
    """A history row, and one outbox row per receiver of ``severity``; the number of outbox rows.
    Also how one-off notices (a failed run, a failed check) reach the receivers."""
    history_id = conn.execute(load_sql("alerts/insert_history"), {
        "dedup_key": dedup_key, "rule": rule, "severity": severity, "event": event, "summary": summary,
        "details": Jsonb(details), "at": now}).fetchone()[0]
    action = RESOLVE if event == RESOLVED_EVENT else TRIGGER
    targets = routes.routes_for(severity)
    for route in targets:
        payload = payload_for(route, action, dedup_key=dedup_key, summary=summary, severity=severity,
                              subject=subject, rule=rule, at=now, details=details, renotify=event == RENOTIFIED)
        conn.execute(load_sql("alerts/enqueue_delivery"), {
            "history_id": history_id, "route": route, "dedup_key": dedup_key, "action": action,
            "payload": Jsonb(payload), "now": now})
    return len(targets)


def apply_conditions(conn: psycopg.Connection, conditions: list[Condition], *, routes: Routes, policy: Policy,
                     now: datetime) -> EvaluationReport:
    """Move every alert one step on ``conditions`` (those that hold now), in one transaction."""
    report = EvaluationReport(conditions=len(conditions))
    holding = {condition.dedup_key: condition for condition in conditions}
    with conn.transaction():
        conn.execute(load_sql("alerts/lock_alert_evaluation"))
        # Failed runs and checks are events with a lifecycle of their own (.pipeline_events): not stepped here.
        tracked = {alert.dedup_key: alert for alert in fetch_rows(
            conn, "alerts/open_alerts_for_update", {"event_rules": list(PIPELINE_RULES)}, Tracked)}
        for key in sorted(set(tracked) | set(holding)):
            current, condition = tracked.get(key), holding.get(key)
            change = step(current, condition is not None, now, policy)
            if change is None:
                continue
            if change.status is None:
                conn.execute(load_sql("alerts/forget_pending_alert"), {"dedup_key": key})
                continue
            rule = condition.rule if condition else current.rule
            severity = condition.severity if condition else current.severity
            subject = condition.subject if condition else current.subject
            summary = condition.summary if condition else current.summary
            details = {"kind": condition.kind, **condition.details} if condition else None
            conn.execute(load_sql("alerts/save_alert"), {
                "dedup_key": key, "rule": rule, "severity": severity, "status": change.status, "subject": subject,
                "summary": summary, "details": Jsonb(details) if details is not None else None,
                "first_seen_at": change.first_seen_at,
                "last_seen_at": now if condition else None,  # None: kept as stored
                "fired_at": change.fired_at, "last_notified_at": change.last_notified_at,
                "clear_since": change.clear_since, "resolved_at": change.resolved_at, "now": now})
            if change.status == PENDING:
                report.pending.append(key)
            if change.notify is None:
                continue
            if change.notify == RESOLVED_EVENT:
                report.resolved.append(key)
                summary = f"resolved: {summary}"
                details = {"fired_at": change.fired_at.isoformat() if change.fired_at else None,
                           "clear_since": change.clear_since.isoformat()}
            else:
                (report.fired if change.notify == FIRED else report.renotified).append(key)
            report.deliveries_enqueued += record_notification(
                conn, routes, event=change.notify, dedup_key=key, rule=rule, severity=severity,
                subject=subject or "", summary=summary, details=details, now=now)
    return report


def acknowledge(conn: psycopg.Connection, dedup_key: str, *, by: str, now: datetime) -> bool:
    """Acknowledge a firing alert (no more reminders; its resolve is still sent). False: no alert of
    that key is firing."""
    with conn.transaction():
        row = conn.execute(load_sql("alerts/acknowledge_alert"),
                           {"dedup_key": dedup_key, "by": by, "now": now}).fetchone()
        if row is None:
            return False
        rule, severity, summary = row
        conn.execute(load_sql("alerts/insert_history"), {
            "dedup_key": dedup_key, "rule": rule, "severity": severity, "event": "acknowledged",
            "summary": summary, "details": Jsonb({"by": by}), "at": now})
    return True


def list_alerts(conn: psycopg.Connection, *, open_only: bool = False, limit: int = 100) -> list[dict]:
    """Alerts (not pending ones) as dicts, open ones first."""
    cursor = conn.execute(load_sql("alerts/list_alerts"), {"open_only": open_only, "limit": limit})
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]
