"""Live batches (an ingest API batch, a Firehose request) through the one ingest core.

A batch is one :class:`~analytics_pipeline.ingestion.loader.Delivery`: its key (the
idempotency key or request id, under the key that sent it) and the SHA-256 of its lines are
its ledger identity, so a retried batch finds its entry and is answered from it, with the
figures committed together with its rows the first time, and writes nothing twice. Pure
Python on psycopg; no Dagster.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import psycopg

from analytics_pipeline.ingestion.contract import EventValidator
from analytics_pipeline.ingestion.formats import Line
from analytics_pipeline.ingestion.loader import Delivery, ObjectLoader
from analytics_pipeline.warehouse.sql import fetch_rows, load_sql

INGEST_API_SOURCE = "ingest_api"
FIREHOSE_SOURCE = "firehose"
KINESIS_SOURCE = "kinesis"
#: The ledger sources of the live paths (S3 objects are ``usage_logs``).
LIVE_SOURCES = (INGEST_API_SOURCE, FIREHOSE_SOURCE, KINESIS_SOURCE)
#: How many quarantined lines an answer names (line, reason, detail).
FIRST_REASONS = 10


class BatchKeyReused(ValueError):
    """The batch's key (idempotency key, request id) was used before for different lines."""


@dataclass(frozen=True)
class QuarantinedLine:
    line: int
    reason: str
    detail: str | None


@dataclass(frozen=True)
class BatchOutcome:
    """What became of a batch's lines; ``replayed`` when it was loaded before (a retry)."""

    lines_read: int
    accepted: int
    duplicates: int
    quarantined: int
    replayed: bool = False
    first_quarantined: list[QuarantinedLine] = field(default_factory=list)


def lines_digest(lines: list[Line]) -> str:
    """The SHA-256 of a batch's lines: the same batch sent again has the same digest."""
    digest = hashlib.sha256()
    for number, raw, reason, _detail in lines:
        digest.update(b"%d\x00%s\x00" % (number, (reason or "").encode()))
        digest.update(hashlib.sha256(raw).digest())
    return digest.hexdigest()


def load_batch(conn: psycopg.Connection, ddl_conn: psycopg.Connection, validator: EventValidator, *,
               source: str, batch_key: str, lines: list[Line], size: int, received_at: datetime) -> BatchOutcome:
    """Load ``lines`` exactly once as the ledger entry ``(source, batch_key)``, in one transaction
    on ``conn``; a batch already loaded under that key is answered from its entry (``replayed``).

    BatchKeyReused when ``batch_key`` was loaded before with other lines. ``ddl_conn``
    (autocommit) creates event partitions and reads the answer.
    """
    digest = lines_digest(lines)
    hour = received_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    delivery = Delivery(batch_key, digest, size, hour, lambda: lines, received_at)
    loader = ObjectLoader(conn, ddl_conn, validator, source=source)
    try:
        result = loader.load_one(delivery)
    except psycopg.errors.UniqueViolation as error:
        if error.diag.constraint_name == "analytics_ingested_objects_one_batch_per_key":
            raise BatchKeyReused(batch_key) from None
        raise
    if result.status == "loaded" and not result.quarantined:
        # Its figures are the ones just committed with its ledger entry, and no line to name:
        # no need to read them back.
        return BatchOutcome(result.lines_read, result.accepted, result.duplicates, 0)
    outcome = batch_outcome(ddl_conn, source, batch_key)
    if outcome is None or outcome[0] != digest:
        raise BatchKeyReused(batch_key)
    return replace(outcome[1], replayed=result.status == "skipped")


def live_event_hours_since(conn: psycopg.Connection, since: datetime) -> tuple[list[datetime], int | None]:
    """The event hours the live paths' batches delivered since ``since`` touched, and the newest
    of their ledger entries (None: no batch)."""
    hours, last = conn.execute(load_sql("ingestion/live_event_hours_since"),
                               {"sources": list(LIVE_SOURCES), "since": since}).fetchone()
    return list(hours), last


def batch_outcome(conn: psycopg.Connection, source: str, batch_key: str) -> tuple[str, BatchOutcome] | None:
    """The digest and the outcome of the batch loaded as ``(source, batch_key)``, or None."""
    row = conn.execute(load_sql("ingestion/batch_outcome"), {"source": source, "object_key": batch_key}).fetchone()
    if row is None:
        return None
    object_id, digest, _status, lines_read, accepted, duplicates, quarantined = row
    first = []
    if quarantined:
        first = fetch_rows(conn, "ingestion/first_quarantined_lines",
                           {"object_id": object_id, "limit": FIRST_REASONS}, QuarantinedLine)
    return digest, BatchOutcome(lines_read, accepted, duplicates, quarantined, first_quarantined=first)
