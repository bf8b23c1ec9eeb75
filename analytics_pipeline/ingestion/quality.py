"""Data-quality figures of ingestion: the ledger against what the warehouse holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from analytics_pipeline.ingestion.loader import USAGE_LOGS_SOURCE
from analytics_pipeline.warehouse.sql import load_sql


@dataclass(frozen=True)
class LedgerTotals:
    objects: int
    lines_read: int
    accepted: int
    duplicates: int
    quarantined: int
    objects_not_adding_up: int
    stored_events: int
    stored_quarantine_rows: int

    @property
    def quarantine_rate(self) -> float:
        return self.quarantined / self.lines_read if self.lines_read else 0.0

    @property
    def adds_up(self) -> bool:
        """Every object's lines add up, and the rows it claims are the rows stored."""
        return (self.objects_not_adding_up == 0 and self.stored_events == self.accepted
                and self.stored_quarantine_rows == self.quarantined
                and self.lines_read == self.accepted + self.duplicates + self.quarantined)


def ledger_totals(conn: psycopg.Connection, start: datetime, end: datetime,
                  source: str = USAGE_LOGS_SOURCE) -> LedgerTotals:
    """Totals of the objects delivered in ``[start, end)``."""
    row = conn.execute(load_sql("ingestion/ledger_totals_for_window"),
                       {"source": source, "range_start": start, "range_end": end}).fetchone()
    return LedgerTotals(*row)
