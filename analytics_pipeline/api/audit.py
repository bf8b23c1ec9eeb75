"""The audit trail of the export API: every export created or downloaded and every refused
request, with when, which key (its public id, never the secret), which organization and job,
the client's address and the outcome.

What a request's entry names is learned as the request is handled (its key once authenticated,
its organization once scoped, its job once parsed): the request's :class:`RequestContext`, one
per request (:func:`request_context`), which routes declare as a dependency
(``deps.AuditContext``) and the error handlers read back when they audit a refusal."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from starlette.requests import HTTPConnection

from analytics_pipeline.warehouse.sql import load_sql


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    action: str  # create_export, download_export, download_file, or the refused route's name
    status_code: int
    outcome: str  # "ok", or the refusal's error code
    key_id: str | None = None
    organization_id: str | None = None
    job_id: uuid.UUID | None = None
    client_address: str | None = None


def write_audit(conn: psycopg.Connection, entry: AuditEntry) -> None:
    conn.execute(load_sql("api/insert_audit_entry"), {
        "at": entry.at, "key_id": entry.key_id, "organization_id": entry.organization_id, "action": entry.action,
        "job_id": entry.job_id, "client_address": entry.client_address, "status_code": entry.status_code,
        "outcome": entry.outcome})


@dataclass
class RequestContext:
    """What one request's audit entries name, filled in as it is handled, and the portal session
    it was handled for (the pages' navigation, an error page's too)."""

    client_address: str | None = None
    key_id: str | None = None
    organization_id: str | None = None
    job_id: uuid.UUID | None = None
    portal_session: Any = None  # deps.PortalSession, once the portal's session dependency found one

    def entry(self, *, at: datetime, action: str, status_code: int, outcome: str, **names: Any) -> AuditEntry:
        """The request's audit entry: its key, organization, job and client, unless ``names`` says otherwise."""
        known = {"key_id": self.key_id, "organization_id": self.organization_id, "job_id": self.job_id,
                 "client_address": self.client_address}
        return AuditEntry(at=at, action=action, status_code=status_code, outcome=outcome, **{**known, **names})


def request_context(connection: HTTPConnection) -> RequestContext:
    """The request's context, made on first use (the one place a request carries state between its
    dependencies, its route and the error handlers)."""
    state = connection.state
    context = getattr(state, "context", None)
    if context is None:
        client = connection.client
        context = state.context = RequestContext(client_address=client.host if client else None)
    return context
