"""What a sensor needs to find new objects cheaply: the ledger's recent keys, a date-bounded
listing that skips them, and a run key made of the objects' identities.

Shared by the usage-log and the build-metrics sensors: any ledger ``source``, any prefix layout.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from analytics_pipeline.storage.object_store import ObjectStore, StoredObject
from analytics_pipeline.warehouse.sql import load_sql


def run_key_for(objects: Iterable[StoredObject]) -> str:
    """A run key from the objects' keys and etags: the same objects give the same key, so a
    re-evaluated tick launches nothing twice, and an overwritten object gives a new one."""
    identity = "\n".join(sorted(f"{o.key}@{o.etag}" for o in objects))
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


def known_objects_since(conn: psycopg.Connection, source: str, since: datetime) -> set[tuple[str, str]]:
    """``(key, etag)`` of the objects of ``source`` the ledger holds, delivered since ``since``."""
    rows = conn.execute(load_sql("delivery/known_objects_since"), {"source": source, "since": since}).fetchall()
    return {(key, etag) for key, etag in rows}


@dataclass
class Discovery:
    """Objects found under the listed prefixes that the ledger does not hold."""

    new_objects: list[StoredObject] = field(default_factory=list)
    listed: int = 0
    ignored: list[str] = field(default_factory=list)  # listed, new, but not accepted (first 20 keys)
    truncated: bool = False  # stopped at the limit: the next tick picks up the rest


def discover_new_objects(store: ObjectStore, prefixes: Iterable[str], known: set[tuple[str, str]], *,
                         limit: int, accept: Callable[[StoredObject], bool] = lambda obj: True) -> Discovery:
    """List ``prefixes`` page by page, keeping accepted objects whose (key, etag) is not ``known``,
    up to ``limit`` of them."""
    found = Discovery()
    for prefix in prefixes:
        for obj in store.list(prefix):
            found.listed += 1
            if (obj.key, obj.etag) in known:
                continue
            if not accept(obj):
                if len(found.ignored) < 20:
                    found.ignored.append(obj.key)
                continue
            found.new_objects.append(obj)
            if len(found.new_objects) >= limit:
                found.truncated = True
                return found
    return found
