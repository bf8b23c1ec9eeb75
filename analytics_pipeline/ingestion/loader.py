"""Exactly-once loading of one log object into the warehouse.

Per object, in one transaction: a ledger row, every line COPYed into a temporary staging
table, first occurrences of each (organization_id, request_id) claimed and inserted as
events, repeats classified as duplicates or conflicting duplicates, rejected lines
quarantined, and the ledger row's counts written. A crash at any point rolls all of it
back; the ledger (key + etag) makes a retry skip what already committed.

Invariant, enforced by a CHECK constraint on the ledger:
``lines_read = accepted + duplicates + quarantined``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import psycopg

from analytics_pipeline.ingestion.contract import EVENT_COLUMNS, EventValidator
from analytics_pipeline.ingestion.formats import UnknownFormatError, read_log_lines
from analytics_pipeline.storage.object_store import ObjectStore, StoredObject
from analytics_pipeline.warehouse.sql import load_sql

USAGE_LOGS_SOURCE = "usage_logs"
RAW_TEXT_CAP = 4096
_STAGING_COLUMNS = ("line_number", "reason", "detail", "raw_text", "raw_sha256", "raw_size_bytes", *EVENT_COLUMNS)
_COPY_STAGING = f"COPY incoming_lines ({', '.join(_STAGING_COLUMNS)}) FROM STDIN"
_NO_EVENT = (None,) * len(EVENT_COLUMNS)
_DELIVERY_HOUR_IN_KEY = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/(\d{2})/")


def delivery_hour_of(obj: StoredObject) -> datetime:
    """The hour an object was delivered: ``YYYY/MM/DD/HH/`` in its key, else its last-modified hour."""
    match = _DELIVERY_HOUR_IN_KEY.search(obj.key)
    if match:
        try:
            return datetime(*map(int, match.groups()), tzinfo=UTC)
        except ValueError:
            pass  # not a real date: fall back to when the object arrived
    return obj.last_modified.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass
class ObjectIngestResult:
    """What happened to one object; ``status`` is loaded, failed or skipped (already in the ledger)."""

    object_key: str
    etag: str
    status: str
    delivery_hour: datetime
    format: str | None = None
    lines_read: int = 0
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    late_events: int = 0
    min_event_time: datetime | None = None
    max_event_time: datetime | None = None
    event_hours: list[datetime] = field(default_factory=list)
    failure_reason: str | None = None
    damage: str | None = None
    quarantine_reasons: dict[str, int] = field(default_factory=dict)


def _raw_fields(raw: bytes) -> tuple[str, str, int]:
    """The capped, printable raw text of a rejected line, its SHA-256 and its size."""
    text = raw[:RAW_TEXT_CAP].decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    return text, hashlib.sha256(raw).hexdigest(), len(raw)


class ObjectLoader:
    """Loads log objects into the warehouse on one connection (plus one for partition DDL).

    ``validator`` decides what a valid event is; tests inject one with a fixed clock.
    """

    def __init__(self, conn: psycopg.Connection, ddl_conn: psycopg.Connection, validator: EventValidator,
                 run_id: str | None = None, source: str = USAGE_LOGS_SOURCE):
        self.conn = conn
        self.ddl_conn = ddl_conn
        self.validator = validator
        self.run_id = run_id
        self.source = source
        self._partitions_made: set[date] = set()
        self._staging_ready = False

    def _ensure_staging(self) -> None:
        # Outside the object transactions, so a rolled-back object never takes the table with it.
        if not self._staging_ready:
            self.conn.execute(load_sql("ingestion/create_incoming_lines"))
            self.conn.commit()
            self._staging_ready = True

    def already_ingested(self, obj: StoredObject) -> bool:
        row = self.conn.execute(
            load_sql("ingestion/find_ingested_object"),
            {"source": self.source, "object_key": obj.key, "etag": obj.etag},
        ).fetchone()
        self.conn.commit()
        return row is not None

    def ingest(self, store: ObjectStore, obj: StoredObject) -> ObjectIngestResult:
        """Load ``obj`` from ``store`` exactly once; a second call returns status ``skipped``."""
        delivery_hour = delivery_hour_of(obj)
        if self.already_ingested(obj):
            return ObjectIngestResult(obj.key, obj.etag, "skipped", delivery_hour)
        self._ensure_staging()
        try:
            with self.conn.transaction():
                return self._ingest_in_transaction(store, obj, delivery_hour)
        except psycopg.errors.UniqueViolation:
            # Another run committed the same key and etag while we were loading it.
            return ObjectIngestResult(obj.key, obj.etag, "skipped", delivery_hour)

    def _ingest_in_transaction(self, store: ObjectStore, obj: StoredObject,
                               delivery_hour: datetime) -> ObjectIngestResult:
        result = ObjectIngestResult(obj.key, obj.etag, "loaded", delivery_hour)
        object_id = self.conn.execute(load_sql("ingestion/open_ledger_entry"), {
            "source": self.source, "object_key": obj.key, "etag": obj.etag, "size_bytes": obj.size,
            "last_modified": obj.last_modified, "delivery_hour": delivery_hour, "run_id": self.run_id,
        }).fetchone()[0]

        lines = read_log_lines(store.stream(obj.key))
        valid = pre_rejected = 0
        rejected: dict[str, int] = {}
        first_time = last_time = None
        with self.conn.cursor().copy(_COPY_STAGING) as copy:
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
                            write_row((line_number, None, None, None, None, None, *row))
                            continue
                    pre_rejected += 1
                    rejected[reason] = rejected.get(reason, 0) + 1
                    write_row((line_number, reason, detail, *_raw_fields(raw), *_NO_EVENT))
            except UnknownFormatError as error:
                # Caught inside the COPY so it completes (empty) and the transaction stays usable.
                result.status, result.failure_reason = "failed", str(error)
        result.format = lines.format.value if lines.format is not None else None
        result.damage = lines.damage

        if valid:
            self._ensure_partitions(first_time, last_time)
            stats = self.conn.execute(load_sql("ingestion/insert_new_events"), {
                "object_id": object_id, "delivery_hour": delivery_hour}).fetchone()
            (result.accepted, result.late_events, result.min_event_time,
             result.max_event_time, result.event_hours) = stats
            result.event_hours = sorted(result.event_hours)
        conflicts = 0
        if valid > result.accepted:
            conflict_lines = [row[0] for row in self.conn.execute(
                load_sql("ingestion/quarantine_conflicting_duplicates"),
                {"object_id": object_id, "object_key": obj.key}).fetchall()]
            conflicts = len(conflict_lines)
            if conflicts:
                rejected["conflicting_duplicate"] = conflicts
                self._store_raw_text(store, obj, object_id, conflict_lines)
        if pre_rejected:
            self.conn.execute(load_sql("ingestion/quarantine_rejected_lines"),
                              {"object_id": object_id, "object_key": obj.key})

        result.quarantined = pre_rejected + conflicts
        result.duplicates = valid - result.accepted - conflicts
        result.lines_read = valid + pre_rejected
        result.quarantine_reasons = rejected
        self.conn.execute(load_sql("ingestion/close_ledger_entry"), {
            "object_id": object_id, "status": result.status, "format": result.format,
            "failure_reason": result.failure_reason, "damage": result.damage,
            "lines_read": result.lines_read, "accepted": result.accepted, "duplicates": result.duplicates,
            "quarantined": result.quarantined, "late_events": result.late_events,
            "min_event_time": result.min_event_time, "max_event_time": result.max_event_time,
            "event_hours": result.event_hours,
        })
        return result

    def _ensure_partitions(self, first: datetime, last: datetime) -> None:
        # Partition DDL runs on its own autocommit connection: our transaction has not yet
        # touched analytics_events, so creating a partition never waits on ourselves.
        day = first.astimezone(UTC).date()
        while day <= last.astimezone(UTC).date():
            if day not in self._partitions_made:
                self.ddl_conn.execute(load_sql("ingestion/ensure_event_partition"), {"day": day})
                self._partitions_made.add(day)
            day += timedelta(days=1)

    def _store_raw_text(self, store: ObjectStore, obj: StoredObject, object_id: int, line_numbers: list[int]) -> None:
        # Staging keeps no raw text for valid lines (it would double the COPY volume), so the
        # rare conflicting duplicates get theirs from a second read of the object.
        wanted = set(line_numbers)
        params = []
        for line_number, raw, _reason, _detail in read_log_lines(store.stream(obj.key)):
            if line_number in wanted:
                text, sha, size = _raw_fields(raw)
                params.append({"object_id": object_id, "line_number": line_number,
                               "raw_text": text, "raw_sha256": sha, "raw_size_bytes": size})
        with self.conn.cursor() as cursor:
            cursor.executemany(load_sql("ingestion/set_quarantined_raw_text"), params)

