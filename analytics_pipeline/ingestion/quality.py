"""Data-quality figures of ingestion: the ledger against what the warehouse holds.

Retention removes some of what the ledger counted: quarantine rows after
``quarantine_retention_days`` and whole raw-event days after ``raw_retention_days`` (once
archived). The ledger keeps its counts, so a re-run or backfill of an old delivery hour compares
stored rows only for the objects retention cannot have touched, and says how many it left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from analytics_pipeline.ingestion.loader import USAGE_LOGS_SOURCE
from analytics_pipeline.warehouse.sql import load_sql

#: Retention may run while the check does, with an ``as_of`` up to an hour ahead of its run
#: (``retention.policy.AS_OF_TOLERANCE``): objects within a day of the quarantine cutoff are
#: left out of the comparison too, rather than risk a false failure.
QUARANTINE_CUTOFF_MARGIN = timedelta(days=1)


def quarantine_kept_since(now: datetime, quarantine_retention_days: int) -> datetime:
    """Objects ingested from this moment on still have every quarantine row retention would keep."""
    return now - timedelta(days=quarantine_retention_days) + QUARANTINE_CUTOFF_MARGIN


@dataclass(frozen=True)
class LedgerTotals:
    objects: int
    lines_read: int
    accepted: int
    duplicates: int
    quarantined: int
    objects_not_adding_up: int
    stored_events: int  # of the objects none of whose event days retention dropped
    stored_quarantine_rows: int  # of the objects ingested since the quarantine cutoff
    objects_with_dropped_days: int  # left out of the event comparison
    accepted_compared: int  # ledger accepted of the objects compared
    objects_past_quarantine_retention: int  # left out of the quarantine comparison
    quarantined_compared: int  # ledger quarantined of the objects compared

    @property
    def quarantine_rate(self) -> float:
        return self.quarantined / self.lines_read if self.lines_read else 0.0

    @property
    def adds_up(self) -> bool:
        """Every object's lines add up, and the rows it claims are the rows stored (for the
        objects whose rows retention cannot have removed)."""
        return (self.objects_not_adding_up == 0 and self.stored_events == self.accepted_compared
                and self.stored_quarantine_rows == self.quarantined_compared
                and self.lines_read == self.accepted + self.duplicates + self.quarantined)


def ledger_totals(conn: psycopg.Connection, start: datetime, end: datetime, quarantine_kept_since: datetime,
                  source: str = USAGE_LOGS_SOURCE) -> LedgerTotals:
    """Totals of the objects delivered in ``[start, end)``; the quarantine rows of objects
    ingested before ``quarantine_kept_since`` (see ``quarantine_kept_since()``) and the events
    of objects with a dropped event day are not compared with the ledger."""
    row = conn.execute(load_sql("ingestion/ledger_totals_for_window"),
                       {"source": source, "range_start": start, "range_end": end,
                        "quarantine_kept_since": quarantine_kept_since}).fetchone()
    return LedgerTotals(*row)
