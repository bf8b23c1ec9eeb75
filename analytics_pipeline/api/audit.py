"""The audit trail of the export API: every export created or downloaded and every refused
request, with when, which key (its public id, never the secret), which organization and job,
the client's address and the outcome."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import psycopg

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
