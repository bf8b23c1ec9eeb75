"""Dropping raw event partitions past retention, whole, and only once archived and verified.

A day's partition is dropped when all of these hold, else it is kept and reported:

* the day has a verified archive in ``analytics_raw_archives`` in the current archive store;
* the archive object is still there with the recorded size (a HEAD: after 365 days it may be
  in Glacier, where it cannot be read back without a restore);
* under an exclusive lock on the partition, its row count still equals the archived count.

The partition's dedupe keys (``analytics_event_keys``, by event time) go in the same
transaction, so keys never outlive or predate their events. Events that old can never be
accepted again: ingestion quarantines them as ``timestamp_out_of_retention``.
"""

from __future__ import annotations

from datetime import date

import psycopg

from analytics_pipeline.retention.policy import Cutoffs, day_bounds
from analytics_pipeline.retention.raw_archive import (
    ArchiveEntry,
    archive_ledger,
    count_day,
    event_partition_days,
    require_autocommit,
)
from analytics_pipeline.retention.report import ActionReport, age_days, iso
from analytics_pipeline.storage.object_store import ObjectStore
from analytics_pipeline.warehouse.sql import load_sql

#: How long a drop waits for the partition and parent locks before it gives up until the next run.
LOCK_TIMEOUT = "30s"


class _Kept(Exception):
    """This day's partition stays (the message says why)."""


def _check_archive(store: ObjectStore, day: date, entry: ArchiveEntry | None) -> ArchiveEntry:
    if entry is None:
        raise _Kept("not archived (archive it first: archive_raw_event_days)")
    if entry.location != store.url:
        raise _Kept(f"archived in {entry.location}, not in the current archive {store.url}")
    stored = store.head(entry.object_key)
    if stored is None:
        raise _Kept(f"its archive {entry.object_key} is missing from {store.url}")
    if stored.size != entry.bytes:
        raise _Kept(f"its archive {entry.object_key} is {stored.size} bytes, {entry.bytes} were verified")
    return entry


def _drop_day(conn: psycopg.Connection, day: date, entry: ArchiveEntry) -> int:
    """Drop the partition and its keys in one transaction; returns the keys deleted."""
    start, end = day_bounds(day)
    with conn.transaction():
        conn.execute(load_sql("retention/set_lock_timeout"), {"timeout": LOCK_TIMEOUT})
        rows = conn.execute(load_sql("retention/lock_event_partition"), {"day": day}).fetchone()[0]
        if rows is None:
            raise _Kept("the partition no longer exists")
        if rows != entry.row_count:
            raise _Kept(f"holds {rows} rows, the archive {entry.row_count}: re-archived on the next run")
        keys = conn.execute(load_sql("retention/delete_event_keys_of_day"), {"day_start": start, "day_end": end})
        conn.execute(load_sql("retention/drop_event_partition"), {"day": day})
        conn.execute(load_sql("retention/mark_partition_dropped"), {"day": day})
        return keys.rowcount


def drop_expired_raw_partitions(conn: psycopg.Connection, store: ObjectStore, cutoffs: Cutoffs,
                                dry_run: bool = False) -> ActionReport:
    """Drop the raw event partitions of days ended before ``cutoffs.drop_before`` (see the
    module docstring); a dry run checks the same conditions and changes nothing."""
    require_autocommit(conn)
    report = ActionReport("drop_expired_raw_partitions", dry_run)
    days = event_partition_days(conn, cutoffs.last_droppable_day)
    ledger = archive_ledger(conn, cutoffs.last_droppable_day)
    dropped: list[date] = []
    rows = keys = 0
    for day in days:
        try:
            entry = _check_archive(store, day, ledger.get(day))
            if dry_run:
                current = count_day(conn, day)
                if current != entry.row_count:
                    raise _Kept(f"holds {current} rows, the archive {entry.row_count}: re-archived first")
                start, end = day_bounds(day)
                day_keys = conn.execute(load_sql("retention/count_event_keys_of_day"),
                                        {"day_start": start, "day_end": end}).fetchone()[0]
            else:
                day_keys = _drop_day(conn, day, entry)
        except _Kept as kept:
            report.problems.append(f"{day}: kept, {kept}")
            report.items.append({"day": day.isoformat(), "action": "kept", "reason": str(kept),
                                 "age_days": age_days(day, cutoffs.now)})
            continue
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected) as busy:
            report.problems.append(f"{day}: kept, the partition was busy ({busy.sqlstate}); retried next run")
            report.items.append({"day": day.isoformat(), "action": "kept", "reason": "busy",
                                 "age_days": age_days(day, cutoffs.now)})
            continue
        dropped.append(day)
        rows += entry.row_count
        keys += day_keys
        report.items.append({"day": day.isoformat(), "action": report.verb("dropped", "would drop"),
                             "rows": entry.row_count, "event_keys_deleted": day_keys,
                             "archive": entry.object_key, "sha256": entry.sha256,
                             "age_days": age_days(day, cutoffs.now)})
    report.figures.update({
        "partitions_dropped": len(dropped),
        "rows_dropped": rows,
        "event_keys_deleted": keys,
        "partitions_kept": len(days) - len(dropped),
        "oldest_day_dropped": iso(min(dropped, default=None)),
        "newest_day_dropped": iso(max(dropped, default=None)),
        "oldest_age_days": age_days(min(dropped, default=None), cutoffs.now),
        "drop_days_ending_by": cutoffs.drop_before.isoformat(),
    })
    return report
