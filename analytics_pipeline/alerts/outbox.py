"""The outbox dispatcher: sends queued notifications, each exactly once, retrying with backoff.

Each delivery is claimed in its own transaction (``FOR UPDATE SKIP LOCKED``: two dispatchers
never hold the same row), posted once, and its outcome written in that same transaction:

* a 2xx answer marks it delivered; it is never sent again;
* a network error, 5xx or 429 leaves it queued with ``next_attempt_at`` pushed back
  exponentially (30 s, 60 s, 120 s, ... up to the rules' ``retry_max_backoff_seconds``), so a
  receiver outage delays the notification and loses nothing;
* another 4xx is the receiver refusing this body: it is marked given up (kept, with the error,
  for an operator) rather than retried forever.

A notification waits while an earlier one of the same alert to the same receiver is queued, so
a resolve never reaches PagerDuty before its trigger. (Were the process killed after the POST but
before its commit, that one row would be sent again on restart; PagerDuty's ``dedup_key`` folds
such a repeat into the same incident.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from analytics_pipeline.alerts.routing import Routes
from analytics_pipeline.alerts.webhook import Delivery, post_json
from analytics_pipeline.warehouse.sql import load_sql

FIRST_RETRY_SECONDS = 30
TIMEOUT_SECONDS = 10.0


def retry_delay(attempts: int, max_seconds: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 30 s doubled each time, capped."""
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1), max_seconds))


@dataclass
class DispatchReport:
    delivered: int = 0
    retrying: int = 0
    given_up: int = 0

    def describe(self) -> str:
        return f"delivered {self.delivered}, to retry {self.retrying}, given up {self.given_up}"


Poster = Callable[[str, dict], Delivery]


def post_once(url: str, body: dict) -> Delivery:
    return post_json(url, body, attempts=1, timeout_seconds=TIMEOUT_SECONDS)


def deliver_due(conn: psycopg.Connection, routes: Routes, *, now: datetime, max_backoff_seconds: int = 900,
                limit: int = 50, post: Poster = post_once) -> DispatchReport:
    """Send up to ``limit`` deliveries due at ``now``, oldest first; each attempt is one transaction.
    A receiver that fails is not tried again in this call (its other rows wait for their turn)."""
    report = DispatchReport()
    failing: set[str] = set()
    for _ in range(limit):
        with conn.transaction():
            row = conn.execute(load_sql("alerts/claim_due_delivery"), {"now": now}).fetchone()
            if row is None:
                break
            outbox_id, route, _dedup_key, _action, payload, attempts = row
            url = routes.url_of(route)
            if route in failing:
                delivery = Delivery(False, 0, error="receiver failing in this dispatch", retryable=True)
            elif not url:
                delivery = Delivery(False, 0, error=f"no {route} receiver is configured", retryable=True)
            else:
                delivery = post(url, routes.body_to_send(route, payload))
            attempt = attempts + 1
            outcome = {"outbox_id": outbox_id, "status": delivery.status, "error": delivery.error,
                       "delivered_at": None, "given_up_at": None, "next_attempt_at": now}
            if delivery.delivered:
                outcome["delivered_at"] = now
                report.delivered += 1
            elif not delivery.retryable:
                outcome["given_up_at"] = now
                report.given_up += 1
            else:
                outcome["next_attempt_at"] = now + retry_delay(attempt, max_backoff_seconds)
                failing.add(route)
                report.retrying += 1
            conn.execute(load_sql("alerts/mark_delivery"), outcome)
    return report


def outbox_summary(conn: psycopg.Connection) -> dict[str, tuple[int, int, int]]:
    """Per receiver: (delivered, waiting, given up)."""
    return {route: (delivered, waiting, given_up)
            for route, delivered, waiting, given_up in conn.execute(load_sql("alerts/outbox_summary"))}
