"""Raw event days as Parquet (zstd) in the archive store, verified and recorded.

One file per UTC day at ``raw_events/year=YYYY/month=MM/day=DD/events.parquet`` (Hive-style,
so Athena, DuckDB or Spark read the prefix as a table partitioned by date). A day is:

1. read in one REPEATABLE READ snapshot: counted, then streamed through a server-side cursor
   in batches into a pyarrow ``ParquetWriter`` on local disk (never a whole day in memory);
2. uploaded, then read back from the store: sha256 and size of the bytes, and the row count
   of the Parquet file decoded batch by batch, must equal what was written and counted;
3. only then recorded in ``analytics_raw_archives`` (a row there means "verified").

Days already archived are skipped while unchanged. Raw events are only ever inserted, so a
day changes only when late events arrive: an archived day is counted again when the ingest
ledger shows an object with events in that day ingested after its archive, or when it is
about to be dropped, and re-archived if the count moved.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq

from analytics_pipeline.retention.policy import Cutoffs, day_bounds
from analytics_pipeline.retention.report import ActionReport, age_days, iso
from analytics_pipeline.storage.object_store import ObjectStore
from analytics_pipeline.warehouse.sql import fetch_rows, load_sql

#: The archive's columns: every column of analytics_events, in table order (a test keeps them in step).
ARCHIVE_SCHEMA = pa.schema([
    ("event_time", pa.timestamp("us", tz="UTC")),
    ("organization_id", pa.string()),
    ("request_id", pa.string()),
    ("endpoint", pa.string()),
    ("method", pa.string()),
    ("status_code", pa.int16()),
    ("duration_ms", pa.float64()),
    ("tokens_consumed", pa.int64()),
    ("tokens_input", pa.int64()),
    ("tokens_output", pa.int64()),
    ("model_id", pa.string()),
    ("event_type", pa.string()),
    ("agent_type", pa.string()),
    ("tool_name", pa.string()),
    ("queue_wait_ms", pa.float64()),
    ("session_id", pa.string()),
    ("level", pa.string()),
    ("message", pa.string()),
    ("attributes", pa.string()),  # the jsonb value as JSON text
    ("content_hash", pa.string()),
    ("object_id", pa.int64()),
    ("user_id", pa.string()),  # added by migration 0008: table order puts them last
    ("error_type", pa.string()),
])
ARCHIVE_PREFIX = "raw_events/"
PARQUET_CONTENT_TYPE = "application/vnd.apache.parquet"
FETCH_ROWS = 10_000  # rows per round trip of the server-side cursor
ROW_GROUP_ROWS = 100_000  # rows per Parquet row group
ZSTD_LEVEL = 9
#: An ingest transaction open when an archive's snapshot was taken is invisible to it; objects
#: ingested up to this long before the snapshot still make the day be counted again.
OPEN_TRANSACTION_MARGIN = timedelta(days=1)


class ArchiveVerificationError(RuntimeError):
    """The archive read back from storage is not what was written."""


def archive_key(day: date) -> str:
    """The object key of a day's archive: built from the date only."""
    return f"{ARCHIVE_PREFIX}year={day:%Y}/month={day:%m}/day={day:%d}/events.parquet"


@dataclass(frozen=True)
class ArchiveEntry:
    """A verified archive, as recorded in ``analytics_raw_archives``."""

    day: date
    location: str
    object_key: str
    row_count: int
    sha256: str
    bytes: int
    archived_at: datetime
    verified_at: datetime | None = None


@dataclass(frozen=True)
class DayToArchive:
    day: date
    reason: str  # not archived | changed since archived | archived elsewhere | archive missing from storage
    archived_rows: int | None = None  # the previous archive's rows, when there is one
    current_rows: int | None = None  # counted when the reason needed it


def require_autocommit(conn: psycopg.Connection) -> None:
    if not conn.autocommit:
        raise ValueError("retention needs an autocommit connection: it runs one transaction per day")


def event_partition_days(conn: psycopg.Connection, last_day: date) -> list[date]:
    return [row[0] for row in conn.execute(load_sql("retention/event_partition_days"), {"last_day": last_day})]


def archive_ledger(conn: psycopg.Connection, last_day: date) -> dict[date, ArchiveEntry]:
    entries = fetch_rows(conn, "retention/raw_archive_ledger", {"last_day": last_day}, ArchiveEntry)
    return {entry.day: entry for entry in entries}


def count_day(conn: psycopg.Connection, day: date) -> int:
    start, end = day_bounds(day)
    return conn.execute(load_sql("retention/count_event_day"), {"day_start": start, "day_end": end}).fetchone()[1]


def _still_stored(store: ObjectStore, entry: ArchiveEntry) -> bool:
    stored = store.head(entry.object_key)
    return stored is not None and stored.size == entry.bytes


def days_to_archive(conn: psycopg.Connection, store: ObjectStore, cutoffs: Cutoffs) -> tuple[list[DayToArchive], int]:
    """The days due for (re-)archiving at ``cutoffs``, oldest first, and how many due days
    are archived and unchanged. Days due to be dropped are always counted again, and their
    archive object looked up, so a drop never relies on a stale or vanished archive."""
    last_day = cutoffs.last_archivable_day
    partitions = event_partition_days(conn, last_day)
    ledger = archive_ledger(conn, last_day)
    touched = {row[0] for row in conn.execute(load_sql("retention/days_ingested_after_archive"),
                                              {"last_day": last_day, "margin": OPEN_TRANSACTION_MARGIN})}
    due: list[DayToArchive] = []
    unchanged = 0
    for day in partitions:
        entry = ledger.get(day)
        if entry is None:
            due.append(DayToArchive(day, "not archived"))
        elif entry.location != store.url:
            due.append(DayToArchive(day, "archived elsewhere", entry.row_count))
        elif day <= cutoffs.last_droppable_day and not _still_stored(store, entry):
            due.append(DayToArchive(day, "archive missing from storage", entry.row_count))
        elif day in touched or day <= cutoffs.last_droppable_day:
            current = count_day(conn, day)
            if current != entry.row_count:
                due.append(DayToArchive(day, "changed since archived", entry.row_count, current))
            else:
                unchanged += 1
        else:
            unchanged += 1
    return due, unchanged


def _record_batches(cursor: psycopg.Cursor) -> Iterator[pa.RecordBatch]:
    while rows := cursor.fetchmany(FETCH_ROWS):
        columns = list(zip(*rows, strict=True))
        yield pa.record_batch(
            [pa.array(values, type=field.type) for values, field in zip(columns, ARCHIVE_SCHEMA, strict=True)],
            schema=ARCHIVE_SCHEMA)


def _write_day_parquet(conn: psycopg.Connection, day: date, path: Path) -> tuple[datetime, int, int]:
    """Write ``day`` to ``path``; returns (snapshot time, rows counted, rows written)."""
    start, end = day_bounds(day)
    params = {"day_start": start, "day_end": end}
    with conn.transaction():
        # One snapshot for the count and the rows: late events committing meanwhile are in neither.
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot_at, counted = conn.execute(load_sql("retention/count_event_day"), params).fetchone()
        written = 0
        metadata = {b"analytics.table": b"analytics_events", b"analytics.day": day.isoformat().encode()}
        with (pq.ParquetWriter(path, ARCHIVE_SCHEMA.with_metadata(metadata), compression="zstd",
                               compression_level=ZSTD_LEVEL) as writer,
              conn.cursor(name="raw_event_day_rows", binary=True) as cursor):
            cursor.itersize = FETCH_ROWS
            cursor.execute(load_sql("retention/event_day_rows"), params)
            pending: list[pa.RecordBatch] = []
            pending_rows = 0
            for batch in _record_batches(cursor):
                pending.append(batch)
                pending_rows += batch.num_rows
                if pending_rows >= ROW_GROUP_ROWS:  # write whole row groups, carry the rest
                    table = pa.Table.from_batches(pending)
                    full = pending_rows - pending_rows % ROW_GROUP_ROWS
                    writer.write_table(table.slice(0, full), row_group_size=ROW_GROUP_ROWS)
                    written += full
                    rest = table.slice(full)
                    pending, pending_rows = rest.to_batches(), rest.num_rows
            if pending_rows or not written:  # an empty day still gets a file (with the schema)
                writer.write_table(pa.Table.from_batches(pending, schema=ARCHIVE_SCHEMA))
                written += pending_rows
    return snapshot_at, counted, written


def sha256_of_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def parquet_row_count(path: Path) -> int:
    """Rows of a Parquet file, decoded batch by batch (the footer alone could lie about the pages)."""
    with pq.ParquetFile(path) as parquet:
        return sum(batch.num_rows for batch in parquet.iter_batches(batch_size=65_536))


def parquet_columns(path: Path) -> pa.Schema:
    """The Arrow schema of a Parquet file, without its key-value metadata."""
    with pq.ParquetFile(path) as parquet:
        return parquet.schema_arrow.remove_metadata()


def verify_archive(store: ObjectStore, key: str, *, sha256: str, size: int, rows: int, workdir: Path) -> None:
    """Read the object back from ``store``; raise :class:`ArchiveVerificationError` unless its
    bytes hash to ``sha256`` and its Parquet holds ``rows`` rows of the columns of ARCHIVE_SCHEMA."""
    copy = workdir / "read-back.parquet"
    digest, read_size = hashlib.sha256(), 0
    with copy.open("wb") as handle:
        for chunk in store.stream(key):
            digest.update(chunk)
            read_size += len(chunk)
            handle.write(chunk)
    if read_size != size or digest.hexdigest() != sha256:
        raise ArchiveVerificationError(
            f"{key}: read back {read_size} bytes with sha256 {digest.hexdigest()}, wrote {size} bytes with {sha256}")
    try:
        read_rows = parquet_row_count(copy)
        columns = parquet_columns(copy)
    except (OSError, pa.ArrowException) as error:
        raise ArchiveVerificationError(f"{key}: the stored file is not readable Parquet: {error}") from error
    if columns != ARCHIVE_SCHEMA:  # e.g. written by a version without user_id / error_type
        raise ArchiveVerificationError(f"{key}: read back columns {columns.names} of types "
                                       f"{[str(t) for t in columns.types]}, expected {ARCHIVE_SCHEMA.names}")
    if read_rows != rows:
        raise ArchiveVerificationError(f"{key}: read back {read_rows} rows, wrote {rows}")


def archive_day(conn: psycopg.Connection, store: ObjectStore, day: date) -> ArchiveEntry:
    """Archive one day: write, upload, verify, record. Raises :class:`ArchiveVerificationError`
    (and records nothing) when any check fails."""
    require_autocommit(conn)
    key = archive_key(day)
    with tempfile.TemporaryDirectory(prefix="raw-archive-") as tmp:
        workdir = Path(tmp)
        local = workdir / "events.parquet"
        snapshot_at, counted, written = _write_day_parquet(conn, day, local)
        if written != counted:
            raise ArchiveVerificationError(f"{day}: streamed {written} rows but the partition holds {counted}")
        sha256, size = sha256_of_file(local)
        store.write_file(key, local, content_type=PARQUET_CONTENT_TYPE)
        verify_archive(store, key, sha256=sha256, size=size, rows=written, workdir=workdir)
    verified_at = conn.execute(load_sql("retention/record_raw_archive"), {
        "day": day, "location": store.url, "object_key": key, "row_count": written, "sha256": sha256,
        "bytes": size, "archived_at": snapshot_at}).fetchone()[0]
    return ArchiveEntry(day, store.url, key, written, sha256, size, snapshot_at, verified_at)


def archive_raw_event_days(conn: psycopg.Connection, store: ObjectStore, cutoffs: Cutoffs,
                           dry_run: bool = False) -> ActionReport:
    """Archive every raw event day due at ``cutoffs`` (see the module docstring). A day that
    fails is reported in ``problems`` and left unrecorded (so never dropped); the others go on."""
    require_autocommit(conn)
    report = ActionReport("archive_raw_event_days", dry_run)
    due, unchanged = days_to_archive(conn, store, cutoffs)
    archived_days: list[date] = []
    rows = size = 0
    for item in due:
        if dry_run:
            current = item.current_rows if item.current_rows is not None else count_day(conn, item.day)
            report.items.append({"day": item.day.isoformat(), "action": "would archive",
                                 "reason": item.reason, "rows": current, "previous_rows": item.archived_rows,
                                 "age_days": age_days(item.day, cutoffs.now), "key": archive_key(item.day)})
            archived_days.append(item.day)
            rows += current
            continue
        try:
            entry = archive_day(conn, store, item.day)
        except Exception as error:  # noqa: BLE001 - storage, database or Parquet: this day fails, the others go on
            message = f"{type(error).__name__}: {error}"
            report.problems.append(f"{item.day}: {message}")
            report.items.append({"day": item.day.isoformat(), "action": "failed", "reason": message[:300]})
            continue
        archived_days.append(item.day)
        rows += entry.row_count
        size += entry.bytes
        report.items.append({"day": item.day.isoformat(), "action": "archived", "reason": item.reason,
                             "rows": entry.row_count, "previous_rows": item.archived_rows, "bytes": entry.bytes,
                             "sha256": entry.sha256, "age_days": age_days(item.day, cutoffs.now),
                             "key": entry.object_key})
    report.figures.update({
        "days_archived": len(archived_days),
        "days_rearchived": sum(1 for i in due if i.archived_rows is not None and i.day in archived_days),
        "days_unchanged": unchanged,
        "days_failed": len(report.problems),
        "rows_archived": rows,
        "bytes_written": size,
        "oldest_day_archived": iso(min(archived_days, default=None)),
        "newest_day_archived": iso(max(archived_days, default=None)),
        "archive_days_ending_by": cutoffs.archive_before.isoformat(),
        "location": store.url,
    })
    return report
