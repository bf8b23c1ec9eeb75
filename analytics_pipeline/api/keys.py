"""API keys in the warehouse: create (the secret is returned once, only its hash stored), find,
list and revoke. Used by the API (authentication) and by ``analytics-pipeline api-keys``."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from analytics_pipeline.api.security import NewKey, generate_key, secret_digest
from analytics_pipeline.identity import checked_organization_id
from analytics_pipeline.warehouse.sql import fetch_row, fetch_rows, load_sql

ORGANIZATION_SCOPE = "organization"
FINANCE_SCOPE = "finance"  # reads every organization
INGEST_SCOPE = "ingest"  # writes events of any organization (ingest API, Firehose), reads nothing


@dataclass(frozen=True)
class ApiKey:
    """A stored key (never its secret)."""

    key_id: str
    secret_sha256: bytes
    name: str
    scope: str
    organization_id: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def may_read(self, organization_id: str) -> bool:
        return self.scope == FINANCE_SCOPE or self.organization_id == organization_id

    @property
    def may_ingest(self) -> bool:
        """Whether the key may send events (an ingest key; the only thing such a key may do)."""
        return self.scope == INGEST_SCOPE

    def usable_at(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


def create_key(conn: psycopg.Connection, *, name: str, organization_id: str | None, finance: bool, now: datetime,
               expires_in: timedelta | None = None, ingest: bool = False) -> tuple[ApiKey, NewKey]:
    """A new key that reads one organization, or (``finance``) all, or (``ingest``) that only
    sends events; returns the row and the secret."""
    if (organization_id is not None) + finance + ingest != 1:
        raise ValueError("a key is for one organization (--org), finance-wide (--finance) or for sending events "
                         "(--ingest): exactly one of them")
    if organization_id is not None:
        checked_organization_id(organization_id)
    if not 1 <= len(name) <= 200:
        raise ValueError("a key's name is 1 to 200 characters")
    new = generate_key()
    key = fetch_row(conn, "api/insert_api_key", {
        "key_id": new.key_id, "secret_sha256": secret_digest(new.secret), "name": name,
        "scope": FINANCE_SCOPE if finance else INGEST_SCOPE if ingest else ORGANIZATION_SCOPE,
        "organization_id": organization_id,
        "created_at": now, "expires_at": now + expires_in if expires_in else None}, ApiKey)
    return key, new


def find_key(conn: psycopg.Connection, key_id: str) -> ApiKey | None:
    return fetch_row(conn, "api/find_api_key", {"key_id": key_id}, ApiKey)


def list_keys(conn: psycopg.Connection) -> list[ApiKey]:
    return fetch_rows(conn, "api/list_api_keys", None, ApiKey)


def revoke_key(conn: psycopg.Connection, key_id: str, now: datetime) -> bool:
    """Revoke a key from ``now`` on; False when there is no such key (revoking twice keeps the first time)."""
    return conn.execute(load_sql("api/revoke_api_key"), {"key_id": key_id, "now": now}).fetchone() is not None


class KeyCache:
    """Key rows read in the last ``ttl`` seconds, so a busy client's requests do not each look
    their key up. Only rows are cached, never a verdict: the secret is checked against the
    stored hash and expiry against the clock on every request. A key revoked meanwhile keeps
    working in this process for at most ``ttl`` seconds (``ANALYTICS_API_KEY_CACHE_SECONDS``;
    0 turns the cache off)."""

    def __init__(self, ttl: float, max_keys: int = 10_000) -> None:
        self.ttl, self.max_keys = ttl, max_keys
        self._rows: dict[str, tuple[float, ApiKey]] = {}
        self._lock = threading.Lock()

    def get(self, key_id: str) -> ApiKey | None:
        if self.ttl <= 0:
            return None
        entry = self._rows.get(key_id)
        if entry is None or time.monotonic() - entry[0] >= self.ttl:
            return None
        return entry[1]

    def put(self, key: ApiKey) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._rows) >= self.max_keys:
                self._rows.clear()
            self._rows[key.key_id] = (time.monotonic(), key)
