"""The ingestion ledger's totals over a window of delivery hours: what became of every object and
line of a source (``sql/ingestion/ingest_totals.sql``). Pure domain code, no Dagster."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from analytics_pipeline.warehouse.sql import fetch_row


@dataclass(frozen=True)
class IngestTotals:
    """Objects loaded and failed, and their lines: read = accepted + duplicates + quarantined."""

    objects_loaded: int
    objects_failed: int
    lines_read: int
    accepted: int
    duplicates: int
    quarantined: int


def ingest_totals(conn: psycopg.Connection, source: str, start: datetime, end: datetime) -> IngestTotals:
    """The ledger's totals of ``source``'s objects delivered in ``[start, end)``."""
    return fetch_row(conn, "ingestion/ingest_totals",
                     {"source": source, "range_start": start, "range_end": end}, IngestTotals)
