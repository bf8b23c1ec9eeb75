"""Data-quality figures of ingestion: the ledger against what the warehouse holds.

Retention removes some of what the ledger counted: quarantine rows after
``quarantine_retention_days`` and whole raw-event days after ``raw_retention_days`` (once
archived). The ledger keeps its counts, so a re-run or backfill of an old delivery hour compares
stored rows only for the objects retention cannot have touched, and says how many it left out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg import sql
from psycopg.rows import namedtuple_row

from analytics_pipeline.ingestion.expectations import (
    DEFAULT_FUTURE_TOLERANCE,
    ExpectationOutcome,
    RawEventsValidation,
    raw_event_expectations,
    row_rule_counts,
    unique_column_lists,
)
from analytics_pipeline.ingestion.loader import USAGE_LOGS_SOURCE
from analytics_pipeline.warehouse.sql import compose_sql, load_sql

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


#: The window's (organization, request id) grouping stays in memory (a million events: ~100 MB).
WINDOW_WORK_MEM = "256MB"


@dataclass(frozen=True)
class DeliveryWindowChecks:
    """What the checks of a window of delivery hours read: the ledger against the warehouse and,
    when asked, the contract's rules on the stored events (as one SQL pass, not through GX)."""

    ledger: LedgerTotals
    contract: RawEventsValidation | None


def check_delivery_window(conn: psycopg.Connection, start: datetime, end: datetime, quarantine_kept_since: datetime,
                          *, contract: bool = True, retention_days: int = 400,
                          future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE,
                          source: str = USAGE_LOGS_SOURCE) -> DeliveryWindowChecks:
    """The ledger totals of the objects delivered in ``[start, end)`` (see :class:`LedgerTotals`)
    and, with ``contract``, the rules of :func:`raw_event_expectations` on their events: one
    scan of the window's events serves both (plus one grouping for the uniqueness rule)."""
    started = time.perf_counter()
    window_params = {"source": source, "range_start": start, "range_end": end}
    with conn.transaction():
        # The window joins a few (to thousands of) objects to their events, with row estimates the
        # planner cannot know for objects just ingested: a nested loop would scan the events once
        # per object. Hash joins only, and the grouping in memory.
        conn.execute("SELECT set_config('work_mem', %s, true), set_config('enable_nestloop', 'off', true)",
                     (WINDOW_WORK_MEM,))
        with conn.cursor(row_factory=namedtuple_row) as cursor:
            objects = cursor.execute(load_sql("ingestion/ledger_objects_for_window"),
                                     {**window_params, "quarantine_kept_since": quarantine_kept_since}).fetchall()
        compared = [o for o in objects if not o.events_dropped]
        kept = [o.object_id for o in objects if not o.quarantine_expired]
        stored_quarantine_rows = conn.execute(load_sql("ingestion/quarantine_rows_of_objects"),
                                              {"object_ids": kept}).fetchone()[0] if kept else 0
        expectations = raw_event_expectations(retention_days, future_tolerance) if contract else ()
        rows_checked = stored_compared = 0
        unexpected: dict[str, int] = {}
        if any(o.min_event_time for o in objects):
            window = compose_sql("ingestion/events_delivered_in_window", **{
                name: sql.Placeholder(name)
                for name in ("source", "range_start", "range_end", "events_from", "events_to")})
            params = {**window_params, **_event_range("events", objects), **_event_range("compared", compared)}
            rule_counts = sql.SQL("").join(sql.SQL(", ") + count for count in row_rule_counts(expectations))
            per_object = conn.execute(compose_sql("ingestion/delivery_window_pass", window=window,
                                                  rule_counts=rule_counts), params).fetchall()
            compared_ids = {o.object_id for o in compared}
            rows_checked = sum(row[1] for row in per_object)
            stored_compared = sum(row[2] for row in per_object if row[0] in compared_ids)
            row_rules = [e for e in expectations if e.gx_type != "ExpectCompoundColumnsToBeUnique"]
            unexpected = {e.name: sum(row[3 + i] for row in per_object) for i, e in enumerate(row_rules)}
            grouped = [e for e in expectations if e not in row_rules]
            if grouped:  # one hash aggregate in memory beats a parallel sort of the texts
                conn.execute("SELECT set_config('max_parallel_workers_per_gather', '0', true)")
            for expectation, columns in zip(grouped, unique_column_lists(expectations), strict=True):
                unexpected[expectation.name] = _repeated_rows(conn, window, columns, params)
    ledger = LedgerTotals(
        objects=len(objects),
        lines_read=sum(o.lines_read for o in objects),
        accepted=sum(o.accepted for o in objects),
        duplicates=sum(o.duplicates for o in objects),
        quarantined=sum(o.quarantined for o in objects),
        objects_not_adding_up=sum(1 for o in objects if o.lines_read != o.accepted + o.duplicates + o.quarantined),
        stored_events=stored_compared,
        stored_quarantine_rows=stored_quarantine_rows,
        objects_with_dropped_days=len(objects) - len(compared),
        accepted_compared=sum(o.accepted for o in compared),
        objects_past_quarantine_retention=len(objects) - len(kept),
        quarantined_compared=sum(o.quarantined for o in objects if not o.quarantine_expired),
    )
    validation = None
    if contract:
        outcomes = () if not rows_checked else tuple(
            ExpectationOutcome(e.name, e.rule, success=unexpected[e.name] == 0, unexpected_count=unexpected[e.name])
            for e in expectations)
        validation = RawEventsValidation(start, end, rows_checked=rows_checked, outcomes=outcomes,
                                         objects=len(objects), events_in_ledger=ledger.accepted,
                                         seconds=time.perf_counter() - started)
    return DeliveryWindowChecks(ledger, validation)


def _repeated_rows(conn: psycopg.Connection, window: sql.Composable, columns: list[str], params: dict) -> int:
    """The window's rows whose ``columns`` repeat: the key hashes that repeat first, then (only
    when some do) the keys behind them, so a hash collision never counts as a repeat."""
    parts = {"window": window, "columns": sql.SQL(", ").join(map(sql.Identifier, columns))}
    hashes = [h for (h,) in conn.execute(compose_sql("ingestion/delivery_window_repeats", **parts), params)]
    if not hashes:
        return 0
    return conn.execute(compose_sql("ingestion/delivery_window_repeated_keys", **parts),
                        {**params, "hashes": hashes}).fetchone()[0]


def _event_range(name: str, objects) -> dict[str, datetime | None]:
    """``<name>_from`` / ``<name>_to``: the event-time range the ``objects`` hold (None without events)."""
    firsts = [o.min_event_time for o in objects if o.min_event_time is not None]
    lasts = [o.max_event_time for o in objects if o.max_event_time is not None]
    return {f"{name}_from": min(firsts, default=None), f"{name}_to": max(lasts, default=None)}


def ledger_totals(conn: psycopg.Connection, start: datetime, end: datetime, quarantine_kept_since: datetime,
                  source: str = USAGE_LOGS_SOURCE) -> LedgerTotals:
    """Totals of the objects delivered in ``[start, end)``; the quarantine rows of objects
    ingested before ``quarantine_kept_since`` (see ``quarantine_kept_since()``) and the events
    of objects with a dropped event day are not compared with the ledger."""
    return check_delivery_window(conn, start, end, quarantine_kept_since, contract=False, source=source).ledger
