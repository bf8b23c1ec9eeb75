"""Exactly-once loading into the warehouse: the one ingest core of every source.

A *delivery* is one entry of the ingest ledger (``analytics_ingested_objects``) and the lines it
brings: an S3 log object (key + etag), an ingest API batch (its idempotency key), a Firehose
request (its request id), a Kinesis shard's sequence range (:class:`Delivery`). Every source
goes through the same contract validator, quarantine reasons, dedupe by (organization_id,
request_id) and conflicting-duplicate rule, here; a delivery may carry a *checkpoint* (a
Kinesis shard's sequence number) that is written in the same transaction as its rows.

Consecutive deliveries (objects) are loaded in *groups*, one transaction per group: per object a ledger
row, and every line COPYed (binary) into a temporary staging table; then, for the whole group,
the first occurrence of each (organization_id, request_id) is claimed and inserted as an event,
repeats are classified as duplicates or conflicting duplicates, rejected lines are quarantined
and each object's ledger row gets its counts. An object's effects therefore commit atomically
with its ledger row. An error (reading an object, or from the warehouse) rolls back the group
it happened in and is raised once the groups before it have committed: the ledger (key + etag)
makes the retry skip those and load the rest, with the same counts.

With a second connection, the loader overlaps the two halves of the work: while a worker
thread has the server claim and insert one group (psycopg releases the GIL while it waits), the
calling thread decodes and validates the next group's lines and streams them to the server on
the other connection. Groups are claimed one at a time, in order, so the first of two lines with
the same key wins exactly as in a sequential load.

Invariant, enforced by a CHECK constraint on the ledger:
``lines_read = accepted + duplicates + quarantined``.
"""

from __future__ import annotations

import functools
import hashlib
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

import psycopg
from psycopg import pq, sql
from psycopg.adapt import Dumper
from psycopg.postgres import types as pg_types

from analytics_pipeline.delivery.prefixes import delivery_hour_of
from analytics_pipeline.ingestion.contract import EVENT_COLUMN_TYPES, EVENT_COLUMNS, EventValidator
from analytics_pipeline.ingestion.formats import Line, UnknownFormatError, read_log_lines
from analytics_pipeline.storage.object_store import ObjectStore, StoredObject
from analytics_pipeline.warehouse.sql import compose_sql, load_sql

USAGE_LOGS_SOURCE = "usage_logs"
RAW_TEXT_CAP = 4096
#: A group takes objects until they hold this many stored (usually gzip) bytes, about 20,000
#: lines of gzip JSON lines, or this many objects. Larger groups mean fewer commits and
#: statements per line; smaller ones a finer overlap and less work lost to an error.
GROUP_BYTES = 1024 * 1024
GROUP_OBJECTS = 100


class _StagingColumn(NamedTuple):
    name: str
    pg_type: str
    not_null: bool = False


#: The staging table (sql/ingestion/create_incoming_lines.sql): where a line came from and, for a
#: line rejected before the claim, why and its raw text; a valid line's event key (see
#: :func:`event_key_bytes`); then the event's columns as contract.EVENT_FIELDS declares them,
#: except attributes, staged as JSON text (binary COPY of jsonb would want the parsed value back)
#: and cast at the insert into analytics_events.
_STAGING_COLUMNS: tuple[_StagingColumn, ...] = (
    _StagingColumn("object_id", "bigint", not_null=True),
    _StagingColumn("object_order", "integer", not_null=True),
    _StagingColumn("line_number", "bigint", not_null=True),
    _StagingColumn("reason", "text"),
    _StagingColumn("detail", "text"),
    _StagingColumn("raw_text", "text"),
    _StagingColumn("raw_sha256", "text"),
    _StagingColumn("raw_size_bytes", "bigint"),
    _StagingColumn("event_key", "uuid"),
    *(_StagingColumn(column, "text" if column == "attributes" else pg_type)
      for column, pg_type in EVENT_COLUMN_TYPES.items()),
)
_STAGING_TYPES = tuple(column.pg_type for column in _STAGING_COLUMNS)
_COPY_STAGING = compose_sql("ingestion/copy_incoming_lines",
                            columns=sql.SQL(", ").join(sql.Identifier(c.name) for c in _STAGING_COLUMNS))
_NO_EVENT = (None,) * (1 + len(EVENT_COLUMNS))  # no event key, no event
_LINE_WITHOUT_REJECTION = (None,) * 5  # reason, detail, raw_text, raw_sha256, raw_size_bytes

#: Connections whose session holds the staging tables already. Kept across loaders: a live
#: batch builds a loader per request on a pooled connection, and two CREATE ... IF NOT EXISTS
#: per batch were a tenth of its round trips.
_STAGING_READY: weakref.WeakSet[psycopg.Connection] = weakref.WeakSet()


@dataclass(frozen=True)
class Delivery:
    """One ledger entry and the lines it brings, whatever the source.

    ``key`` + ``etag`` identify it in the ledger (unique per loader source): a second delivery
    with the same identity is skipped. ``read_lines`` returns its lines, ``(line_number, raw,
    reason, detail)`` as :func:`~analytics_pipeline.ingestion.formats.read_log_lines` yields them
    (a ``LogLines``' ``format`` and ``damage`` are recorded); it is called again for the raw text
    of conflicting duplicates, so it must give the same lines each time. ``checkpoint`` runs
    in the delivery's transaction, after its rows and before the commit (a Kinesis shard's
    sequence number); it raises to roll the delivery back.
    """

    key: str
    etag: str
    size: int
    delivery_hour: datetime
    read_lines: Callable[[], Iterable[Line]]
    last_modified: datetime | None = None
    checkpoint: Callable[[psycopg.Connection], None] | None = None


def object_delivery(store: ObjectStore, obj: StoredObject) -> Delivery:
    """The delivery of an S3 log object: its key and etag, its lines streamed from ``store``."""
    return Delivery(obj.key, obj.etag, obj.size, delivery_hour_of(obj),
                    functools.partial(_object_lines, store, obj.key), obj.last_modified)


def _object_lines(store: ObjectStore, key: str) -> Iterable[Line]:
    return read_log_lines(store.stream(key))


@dataclass(kw_only=True)
class LineCounts:
    """What became of the lines read: ``lines_read = accepted + duplicates + quarantined`` (the
    ledger's CHECK); ``late_events`` are accepted events older than their delivery hour."""

    lines_read: int = 0
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    late_events: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)


@dataclass
class ObjectIngestResult(LineCounts):
    """What happened to one delivery (an object, a batch); ``status`` is loaded, failed or skipped
    (already in the ledger)."""

    object_key: str
    etag: str
    status: str
    delivery_hour: datetime
    format: str | None = None
    min_event_time: datetime | None = None
    max_event_time: datetime | None = None
    event_hours: list[datetime] = field(default_factory=list)
    failure_reason: str | None = None
    damage: str | None = None


@dataclass
class LoaderTimings:
    """Where a loader's wall time went, in seconds (for benchmarks and logs).

    ``staging``: ledger rows, reading, decoding, validating and COPYing lines (calling thread);
    ``claiming``: partitions and the claim + insert statement; ``finishing``: repeats,
    quarantine and ledger counts; ``committing``: the commits; ``waiting``: the calling thread
    idle until a connection was free. With two connections, staging overlaps the rest.
    """

    staging: float = 0.0
    claiming: float = 0.0
    finishing: float = 0.0
    committing: float = 0.0
    waiting: float = 0.0
    groups: int = 0
    claim_fallbacks: int = 0


@dataclass
class _StagedObject:
    delivery: Delivery
    object_id: int
    result: ObjectIngestResult
    valid: int  # lines that passed the contract
    rejected: int  # lines quarantined before the claim (format or contract)
    first_time: datetime | None
    last_time: datetime | None


@dataclass
class _Group:
    """Consecutive objects staged in one transaction on one connection; ``entries`` keeps the
    input order (a skipped object is a finished result)."""

    conn: psycopg.Connection
    entries: list[_StagedObject | ObjectIngestResult] = field(default_factory=list)


def _raw_fields(raw: bytes) -> tuple[str, str, int]:
    """The capped, printable raw text of a rejected line, its SHA-256 and its size."""
    text = raw[:RAW_TEXT_CAP].decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    return text, hashlib.sha256(raw).hexdigest(), len(raw)



def event_key_bytes(organization_id: str, request_id: str) -> bytes:
    """The 16 bytes of an event's dedupe key, the uuid the warehouse's
    ``analytics_event_key(organization_id, request_id)`` computes: MD5 of the two, joined by US.

    The loader stages it with each valid line, so the claim statement neither hashes nor parses
    a key per line (the server's work is the loader's bottleneck; this costs the client under a
    microsecond). ``surrogatepass``: a lone surrogate never raises here (the server refuses such
    text at the COPY, as before).
    """
    return hashlib.md5(f"{organization_id}\x1f{request_id}".encode("utf-8", "surrogatepass")).digest()


class _EventKeyDumper(Dumper):
    """Binary COPY of a staged event key: its 16 bytes are the uuid's binary form as they are
    (a uuid.UUID per line would cost more than the hash)."""

    format = pq.Format.BINARY
    oid = pg_types["uuid"].oid

    def dump(self, obj: bytes) -> bytes:
        return obj


class WarehouseEncodingError(RuntimeError):
    """The warehouse database is not UTF-8: the staged event keys (MD5 of the UTF-8 bytes) would
    differ from the keys the database computes, and a redelivered event could be counted twice."""


def create_staging_tables(conn: psycopg.Connection) -> None:
    """Create this session's staging tables (temporary, emptied at each commit) if missing.
    Refuses a warehouse whose encoding is not UTF-8 (:class:`WarehouseEncodingError`): the keys
    the loader stages are :func:`event_key_bytes`, hashed over UTF-8."""
    encoding = conn.info.parameter_status("server_encoding")
    if encoding != "UTF8":
        raise WarehouseEncodingError(
            f"the warehouse database's encoding is {encoding}, not UTF8: create it with ENCODING 'UTF8' "
            "(event keys are hashed over UTF-8 and must match the database's analytics_event_key)")
    columns = sql.SQL(",\n    ").join(
        sql.SQL("{} {}{}").format(sql.Identifier(c.name), sql.SQL(c.pg_type),
                                  sql.SQL(" NOT NULL" if c.not_null else ""))
        for c in _STAGING_COLUMNS)
    conn.execute(compose_sql("ingestion/create_incoming_lines", columns=columns))
    conn.execute(load_sql("ingestion/create_incoming_repeats"))


@functools.cache
def insert_new_events_sql(*, on_conflict: bool) -> sql.Composed:
    """sql/ingestion/insert_new_events.sql, plain or as the ON CONFLICT fallback (a fixed clause)."""
    staged = {c.name: c.pg_type for c in _STAGING_COLUMNS}
    values = [sql.Identifier("i", column) if staged[column] == pg_type
              else sql.SQL("{}::{}").format(sql.Identifier("i", column), sql.SQL(pg_type))
              for column, pg_type in EVENT_COLUMN_TYPES.items()]
    return compose_sql("ingestion/insert_new_events",
                       on_conflict=sql.SQL("ON CONFLICT (event_key) DO NOTHING" if on_conflict else ""),
                       event_columns=sql.SQL(", ").join(map(sql.Identifier, EVENT_COLUMNS)),
                       staged_event_values=sql.SQL(", ").join(values))


@dataclass(eq=False)
class ObjectLoader:
    """Loads deliveries (log objects, API batches, Firehose requests, Kinesis ranges) into the
    warehouse, under one ledger ``source``.

    ``conn`` stages and loads groups of objects; ``ddl_conn`` (autocommit) creates event
    partitions; the optional ``second_conn`` lets staging of the next group overlap the loading
    of the current one (see the module docstring). ``validator`` decides what a valid event
    is; tests inject one with a fixed clock.
    """

    conn: psycopg.Connection
    ddl_conn: psycopg.Connection
    validator: EventValidator
    run_id: str | None = None
    source: str = USAGE_LOGS_SOURCE
    second_conn: psycopg.Connection | None = None
    group_bytes: int = GROUP_BYTES
    group_objects: int = GROUP_OBJECTS
    timings: LoaderTimings = field(default_factory=LoaderTimings, init=False)
    _partitions_made: set[date] = field(default_factory=set, init=False)
    _failed: bool = field(default=False, init=False)

    def ingest(self, store: ObjectStore, obj: StoredObject) -> ObjectIngestResult:
        """Load ``obj`` from ``store`` exactly once; a second call returns status ``skipped``."""
        return self.load_one(object_delivery(store, obj))

    def ingest_many(self, store: ObjectStore, objects: Iterable[StoredObject],
                    on_result: Callable[[ObjectIngestResult], None]) -> None:
        """Load ``objects`` exactly once each, in groups; ``on_result`` gets every object's
        result, in input order, once its group has committed (see :meth:`load`)."""
        self.load((object_delivery(store, obj) for obj in objects), on_result)

    def load_one(self, delivery: Delivery) -> ObjectIngestResult:
        """Load one delivery exactly once, in a transaction of its own; a second call returns
        status ``skipped``."""
        results: list[ObjectIngestResult] = []
        self.load([delivery], results.append)
        return results[0]

    def load(self, deliveries: Iterable[Delivery], on_result: Callable[[ObjectIngestResult], None]) -> None:
        """Load ``deliveries`` exactly once each, in groups; ``on_result`` gets every delivery's
        result, in input order, once its group has committed.

        An error rolls back the group it happened in (nothing of its deliveries remains) and is
        raised after the groups before it have committed and been reported.
        """
        lanes = [self.conn] if self.second_conn is None else [self.conn, self.second_conn]
        for lane in lanes:
            self._ensure_staging(lane)
        executor = ThreadPoolExecutor(1, thread_name_prefix="ingest-load") if len(lanes) > 1 else None
        self._failed = False
        pending: deque[Future] = deque()
        group: _Group | None = None
        turn = 0
        try:
            for batch in self._batches(deliveries):
                if len(pending) == len(lanes):  # the next lane is still loading its last group
                    self._report(pending.popleft(), on_result)
                group = _Group(lanes[turn % len(lanes)])
                turn += 1
                self._stage(group, batch)
                pending.append(self._submit(executor, group))
                group = None
            while pending:
                self._report(pending.popleft(), on_result)
        except BaseException:
            if group is not None:
                group.conn.rollback()
            reporting = True  # what committed before the error is reported; nothing after it
            while pending:
                try:
                    results = pending.popleft().result()
                except BaseException:  # noqa: BLE001 - the first error is the one raised
                    reporting = False
                    continue
                if reporting:
                    for result in results:
                        on_result(result)
            raise
        finally:
            if executor is not None:
                executor.shutdown(wait=True)

    def _submit(self, executor: ThreadPoolExecutor | None, group: _Group) -> Future:
        if executor is not None:
            return executor.submit(self._load_group, group)
        future: Future = Future()
        try:
            future.set_result(self._load_group(group))
        except Exception as error:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(error)
        return future

    def _report(self, future: Future, on_result: Callable[[ObjectIngestResult], None]) -> None:
        started = time.perf_counter()
        results = future.result()
        self.timings.waiting += time.perf_counter() - started
        for result in results:
            on_result(result)

    def _ensure_staging(self, conn: psycopg.Connection) -> None:
        # Outside the group transactions, so a rolled-back group never takes the tables with it.
        if conn not in _STAGING_READY:
            create_staging_tables(conn)
            _STAGING_READY.add(conn)
        # Groups start with no transaction open: one that had read analytics_events would make
        # the partition DDL (on ddl_conn) wait for ourselves.
        conn.commit()

    # ------------------------------------------------------------------ staging (calling thread)
    def _batches(self, deliveries: Iterable[Delivery]) -> Iterator[list[Delivery]]:
        batch: list[Delivery] = []
        size = 0
        for delivery in deliveries:
            batch.append(delivery)
            size += delivery.size
            if size >= self.group_bytes or len(batch) >= self.group_objects:
                yield batch
                batch, size = [], 0
        if batch:
            yield batch

    def _stage(self, group: _Group, batch: list[Delivery]) -> None:
        """Open the ledger rows of ``batch`` and COPY every line of its new deliveries to staging."""
        started = time.perf_counter()
        conn = group.conn
        object_ids = {(key, etag): object_id for key, etag, object_id in conn.execute(
            load_sql("ingestion/open_ledger_entries"), {
                "source": self.source, "run_id": self.run_id, "object_keys": [d.key for d in batch],
                "etags": [d.etag for d in batch], "sizes": [d.size for d in batch],
                "last_modified": [d.last_modified for d in batch],
                "delivery_hours": [d.delivery_hour for d in batch],
            }).fetchall()}
        for order, delivery in enumerate(batch):
            object_id = object_ids.pop((delivery.key, delivery.etag), None)
            if object_id is None:  # already in the ledger, or listed twice
                group.entries.append(ObjectIngestResult(delivery.key, delivery.etag, "skipped",
                                                        delivery.delivery_hour))
                continue
            result = ObjectIngestResult(delivery.key, delivery.etag, "loaded", delivery.delivery_hour)
            group.entries.append(self._copy_lines(conn, delivery, object_id, order, result))
        self.timings.staging += time.perf_counter() - started

    def _copy_lines(self, conn: psycopg.Connection, delivery: Delivery, object_id: int,
                    order: int, result: ObjectIngestResult) -> _StagedObject:
        lines = delivery.read_lines()
        valid = 0
        rejected: dict[str, int] = {}
        first_time = last_time = None
        cursor = conn.cursor()
        cursor.adapters.register_dumper(None, _EventKeyDumper)  # by oid only: COPY's uuid column
        with cursor.copy(_COPY_STAGING) as copy:
            copy.set_types(_STAGING_TYPES)
            validate = self.validator.validate
            write_row = copy.write_row
            try:
                for line_number, raw, reason, detail in lines:
                    if reason is None:
                        row, reason, detail = validate(raw)
                        if row is not None:
                            valid += 1
                            event_time = row[0]
                            if first_time is None or event_time < first_time:
                                first_time = event_time
                            if last_time is None or event_time > last_time:
                                last_time = event_time
                            write_row((object_id, order, line_number, *_LINE_WITHOUT_REJECTION,
                                       event_key_bytes(row[1], row[2]), *row))
                            continue
                    rejected[reason] = rejected.get(reason, 0) + 1
                    write_row((object_id, order, line_number, reason, detail, *_raw_fields(raw), *_NO_EVENT))
            except UnknownFormatError as error:
                # Caught inside the COPY so it completes (empty) and the transaction stays usable.
                result.status, result.failure_reason = "failed", str(error)
        line_format = getattr(lines, "format", None)
        result.format = line_format.value if line_format is not None else None
        result.damage = getattr(lines, "damage", None)
        result.quarantine_reasons = rejected
        result.quarantined = sum(rejected.values())
        result.lines_read = valid + result.quarantined
        return _StagedObject(delivery, object_id, result, valid, result.quarantined, first_time, last_time)

    # ------------------------------------------------------------ loading (worker thread)
    def _load_group(self, group: _Group) -> list[ObjectIngestResult]:
        """Claim, insert, quarantine and close the ledger rows of a staged group; commit."""
        conn = group.conn
        try:
            if self._failed:  # groups load in order: none after one that failed
                raise RuntimeError("not loaded: an earlier group of objects failed to load")
            staged = [entry for entry in group.entries if isinstance(entry, _StagedObject)]
            if staged:
                self._claim_and_insert(conn, staged)
                self._finish(conn, staged)
            else:
                conn.commit()
        except BaseException:
            self._failed = True
            conn.rollback()
            raise
        self.timings.groups += 1
        return [entry.result if isinstance(entry, _StagedObject) else entry for entry in group.entries]

    def _claim_and_insert(self, conn: psycopg.Connection, staged: list[_StagedObject]) -> None:
        valid = sum(s.valid for s in staged)
        if not valid:
            return
        started = time.perf_counter()
        self._ensure_partitions(min(s.first_time for s in staged if s.valid),
                                max(s.last_time for s in staged if s.valid))
        params = {"valid_lines": valid, "object_ids": [s.object_id for s in staged],
                  "delivery_hours": [s.result.delivery_hour for s in staged]}
        try:
            with conn.transaction():  # a savepoint
                rows = conn.execute(insert_new_events_sql(on_conflict=False), params).fetchall()
        except psycopg.errors.UniqueViolation:
            # A concurrent loader committed some of these keys after our snapshot.
            self.timings.claim_fallbacks += 1
            rows = conn.execute(insert_new_events_sql(on_conflict=True), params).fetchall()
        by_object = {s.object_id: s.result for s in staged}
        for object_id, accepted, late_events, min_time, max_time, event_hours in rows:
            result = by_object[object_id]
            result.accepted, result.late_events = accepted, late_events
            result.min_event_time, result.max_event_time = min_time, max_time
            result.event_hours = sorted(event_hours)
        self.timings.claiming += time.perf_counter() - started

    def _finish(self, conn: psycopg.Connection, staged: list[_StagedObject]) -> None:
        started = time.perf_counter()
        objects = {"object_ids": [s.object_id for s in staged], "object_keys": [s.delivery.key for s in staged]}
        if any(s.valid > s.result.accepted for s in staged):
            conflicts: dict[int, list[int]] = {}
            for object_id, line_number in conn.execute(
                    load_sql("ingestion/quarantine_conflicting_duplicates"), objects).fetchall():
                conflicts.setdefault(object_id, []).append(line_number)
            for s in staged:
                lines = conflicts.get(s.object_id, [])
                if lines:
                    s.result.quarantine_reasons["conflicting_duplicate"] = len(lines)
                    s.result.quarantined += len(lines)
                    self._store_raw_text(conn, s, lines)
                s.result.duplicates = s.valid - s.result.accepted - len(lines)
        if any(s.rejected for s in staged):
            conn.execute(load_sql("ingestion/quarantine_rejected_lines"), objects)
        with conn.cursor() as cursor:
            cursor.executemany(load_sql("ingestion/close_ledger_entry"), [{
                "object_id": s.object_id, "status": s.result.status, "format": s.result.format,
                "failure_reason": s.result.failure_reason, "damage": s.result.damage,
                "lines_read": s.result.lines_read, "accepted": s.result.accepted, "duplicates": s.result.duplicates,
                "quarantined": s.result.quarantined, "late_events": s.result.late_events,
                "min_event_time": s.result.min_event_time, "max_event_time": s.result.max_event_time,
                "event_hours": s.result.event_hours,
            } for s in staged])
        for s in staged:
            if s.delivery.checkpoint is not None:
                s.delivery.checkpoint(conn)
        committing = time.perf_counter()
        self.timings.finishing += committing - started
        conn.commit()
        self.timings.committing += time.perf_counter() - committing

    def _ensure_partitions(self, first: datetime, last: datetime) -> None:
        # Partition DDL runs on its own autocommit connection, before the group's transaction
        # touches analytics_events (and the other connection's never has), so creating a
        # partition never waits on ourselves.
        day = first.astimezone(UTC).date()
        while day <= last.astimezone(UTC).date():
            if day not in self._partitions_made:
                try:
                    self.ddl_conn.execute(load_sql("ingestion/ensure_event_partition"), {"day": day})
                except psycopg.errors.DuplicateTable:
                    pass  # another loader created it between the function's check and its CREATE
                self._partitions_made.add(day)
            day += timedelta(days=1)

    def _store_raw_text(self, conn: psycopg.Connection, staged: _StagedObject, line_numbers: list[int]) -> None:
        # Staging keeps no raw text for valid lines (it would double the COPY volume), so the
        # rare conflicting duplicates get theirs from a second read of the delivery.
        wanted = set(line_numbers)
        params = []
        for line_number, raw, _reason, _detail in staged.delivery.read_lines():
            if line_number in wanted:
                text, sha, size = _raw_fields(raw)
                params.append({"object_id": staged.object_id, "line_number": line_number,
                               "raw_text": text, "raw_sha256": sha, "raw_size_bytes": size})
        with conn.cursor() as cursor:
            cursor.executemany(load_sql("ingestion/set_quarantined_raw_text"), params)
