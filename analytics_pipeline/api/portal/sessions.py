"""Portal sessions in the warehouse (``analytics_portal_sessions``, migration 0011).

Opening a session stores the SHA-256 of a new random id and hands the id back for the cookie;
finding one reads it together with its key's row, so a key revoked or expired since sign-in
ends its sessions on the next page. Signing out ends the row; rows expired for a day are
deleted as new sessions open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from analytics_pipeline.api.keys import ApiKey
from analytics_pipeline.api.security import new_session_id, session_digest
from analytics_pipeline.warehouse.sql import load_sql

SESSION_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class StoredSession:
    expires_at: datetime
    key: ApiKey


def open_session(conn: psycopg.Connection, key: ApiKey, now: datetime, *, lifetime: timedelta = SESSION_LIFETIME,
                 client_address: str | None = None, replacing: str | None = None) -> tuple[str, datetime]:
    """A new session of ``key`` from ``now``: (its id, for the cookie only; when it expires). ``replacing``,
    the browser's previous session id if it sent one, ends with it: a sign-in leaves one session per browser."""
    session_id = new_session_id()
    expires_at = now + lifetime
    with conn.transaction():
        if replacing:
            end_session(conn, replacing, now)
        conn.execute(load_sql("portal/delete_expired_sessions"), {"now": now})
        conn.execute(load_sql("portal/insert_session"), {
            "session_sha256": session_digest(session_id), "key_id": key.key_id, "created_at": now,
            "expires_at": expires_at, "client_address": client_address})
    return session_id, expires_at


async def find_session(conn: psycopg.AsyncConnection, session_id: str, now: datetime) -> StoredSession | None:
    """The session open at ``now`` with this id, and its key's row; None when unknown, ended or expired."""
    cursor = await conn.execute(load_sql("portal/find_session"), {"session_sha256": session_digest(session_id),
                                                                   "now": now})
    row = await cursor.fetchone()
    return StoredSession(row[0], ApiKey(*row[1:])) if row else None


def end_session(conn: psycopg.Connection, session_id: str, now: datetime) -> None:
    conn.execute(load_sql("portal/end_session"), {"session_sha256": session_digest(session_id), "now": now})
