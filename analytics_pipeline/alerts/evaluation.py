"""One alert evaluation, callable from anywhere (the Dagster sensor, ``analytics-pipeline alerts
evaluate``, a benchmark): read the observations, evaluate the rules, move the lifecycle (one
transaction), then send what is due from the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from analytics_pipeline.alerts.conditions import evaluate
from analytics_pipeline.alerts.lifecycle import EvaluationReport, Policy, apply_conditions
from analytics_pipeline.alerts.observations import observe
from analytics_pipeline.alerts.outbox import DispatchReport, Poster, deliver_due, post_once
from analytics_pipeline.alerts.routing import Routes
from analytics_pipeline.alerts.rules import RuleSet


def policy_of(rules: RuleSet) -> Policy:
    return Policy(hold=timedelta(seconds=rules.hold_seconds), renotify=timedelta(minutes=rules.renotify_minutes))


@dataclass(frozen=True)
class AlertRun:
    evaluation: EvaluationReport
    dispatch: DispatchReport

    def describe(self) -> str:
        return f"{self.evaluation.describe()}; deliveries: {self.dispatch.describe()}"


def evaluate_and_dispatch(conn: psycopg.Connection, rules: RuleSet, routes: Routes, *, now: datetime,
                          post: Poster = post_once) -> AlertRun:
    """Evaluate ``rules`` at ``now`` and send the notifications due."""
    with conn.transaction():
        seen = observe(conn, rules, now)
    evaluation = apply_conditions(conn, evaluate(rules, seen), routes=routes, policy=policy_of(rules), now=now)
    dispatch = deliver_due(conn, routes, now=now, max_backoff_seconds=rules.retry_max_backoff_seconds, post=post)
    return AlertRun(evaluation, dispatch)
