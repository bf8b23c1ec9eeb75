"""A Kinesis Data Streams consumer on the one ingest core (``analytics-pipeline consume``).

Each ``GetRecords`` batch of a shard is one :class:`~analytics_pipeline.ingestion.loader.Delivery`
(ledger key: stream/shard/first sequence number, etag: the last), whose checkpoint, the shard's
last sequence number in ``analytics_stream_shards``, is written in the same transaction as its
rows. A crash at any instant (kill -9) therefore leaves either the rows and the checkpoint or
neither: the restarted consumer reads on from the checkpoint, and nothing is lost or doubled.

Shards are leased in PostgreSQL so several consumers share a stream: each consumer renews its
row in ``analytics_stream_consumers`` every round, takes a fair share (open shards over live
consumers) of the shards that are free, expired (a dead holder's) or its own, renews those and
hands back the rest, and writes a checkpoint only while its lease is live and the checkpoint is still the one
it read after; otherwise the batch rolls back and the shard is left to its new holder. A child
shard (after a split or a merge) is leased only once its parents are drained: read to the end
of a closed shard. Progress and lag (``MillisBehindLatest``) are logged and kept per shard
(``analytics-pipeline consume --status``). Pure Python on boto3 and psycopg; no Dagster.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from analytics_pipeline.ingestion.contract import EventValidator
from analytics_pipeline.ingestion.live import KINESIS_SOURCE
from analytics_pipeline.ingestion.loader import Delivery, ObjectIngestResult, ObjectLoader
from analytics_pipeline.ingestion.records import record_lines
from analytics_pipeline.warehouse.sql import fetch_rows, load_sql

logger = logging.getLogger("analytics_pipeline.kinesis")


class LeaseLost(RuntimeError):
    """The shard's lease expired or another consumer moved its checkpoint: the batch rolls back."""


@dataclass(frozen=True)
class ShardStatus:
    """One row of ``consume --status``."""

    shard_id: str
    parent_shard_ids: list[str]
    drained: bool
    checkpoint_sequence: str | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    lease_live: bool | None
    records_loaded: int
    millis_behind_latest: int | None
    last_loaded_at: datetime | None


def stream_status(conn: psycopg.Connection, stream: str) -> list[ShardStatus]:
    """Every known shard of ``stream``: checkpoint, lease and progress."""
    return fetch_rows(conn, "ingestion/stream_status", {"stream": stream}, ShardStatus)


def stream_consumers_alive(conn: psycopg.Connection, stream: str) -> int:
    """How many consumers renewed their heartbeat on ``stream`` within a lease period."""
    return conn.execute(load_sql("ingestion/stream_consumers_alive"), {"stream": stream}).fetchone()[0]


def default_consumer_id() -> str:
    """``host:pid``: unique among live consumers, and a restarted one is a new holder."""
    return f"{socket.gethostname()}:{os.getpid()}"


def kinesis_client(endpoint_url: str | None = None, max_attempts: int = 10):
    """A boto3 Kinesis client with the standard AWS chain (AWS_REGION, credentials,
    AWS_ENDPOINT_URL) and standard retries with backoff (throttling included)."""
    import boto3
    from botocore.config import Config

    return boto3.client("kinesis", endpoint_url=endpoint_url,
                        config=Config(retries={"max_attempts": max_attempts, "mode": "standard"}))


class KinesisConsumer:
    """Reads every shard of ``stream`` into the warehouse, exactly once (see the module docstring).

    ``conn`` loads (transactions of its own), ``ddl_conn`` (autocommit) creates partitions and
    keeps the leases; ``validator_at`` builds the event validator for "now" (tests fix it).
    """

    def __init__(self, client, conn: psycopg.Connection, ddl_conn: psycopg.Connection, stream: str, *,
                 validator_at: Callable[[datetime], EventValidator], owner: str | None = None,
                 lease_seconds: float = 30.0, batch_records: int = 1000, poll_seconds: float = 1.0,
                 shard_sync_seconds: float = 30.0, clock: Callable[[], datetime] | None = None) -> None:
        self.client, self.conn, self.ddl_conn, self.stream = client, conn, ddl_conn, stream
        self.validator_at = validator_at
        self.owner = owner or default_consumer_id()
        self.lease_seconds, self.batch_records, self.poll_seconds = lease_seconds, batch_records, poll_seconds
        self.shard_sync_seconds = shard_sync_seconds
        self.clock = clock or (lambda: datetime.now(UTC))
        self.loader = ObjectLoader(conn, ddl_conn, validator_at(self.clock()), run_id=self.owner,
                                   source=KINESIS_SOURCE)
        # shard id -> (shard iterator, the checkpoint it reads after)
        self._iterators: dict[str, tuple[str, str | None]] = {}
        self._last_sync = float("-inf")
        # shard id -> its EndingSequenceNumber, for shards ListShards shows closed (split or merged)
        self._closed: dict[str, str] = {}
        self.records_loaded = 0

    # ------------------------------------------------------------------ the loop
    def run(self, stop: threading.Event | None = None, max_rounds: int | None = None) -> None:
        """Poll every leased shard in rounds until ``stop`` is set (or ``max_rounds`` have run);
        the leases are handed back on the way out."""
        stop = stop or threading.Event()
        rounds = 0
        try:
            while not stop.is_set() and (max_rounds is None or rounds < max_rounds):
                rounds += 1
                if not self.run_round():
                    stop.wait(self.poll_seconds)
        finally:
            self.ddl_conn.execute(load_sql("ingestion/stream_leave"), {"stream": self.stream, "owner": self.owner})

    def run_round(self) -> int:
        """One round: sync the shard list now and then, take or renew leases, read one batch
        of each leased shard. Returns the records read."""
        if time.monotonic() - self._last_sync >= self.shard_sync_seconds:
            self.sync_shards()
        params = {"stream": self.stream, "owner": self.owner, "lease_seconds": self.lease_seconds}
        self.ddl_conn.execute(load_sql("ingestion/stream_heartbeat"), params)
        leases = self.ddl_conn.execute(load_sql("ingestion/stream_acquire_leases"), params).fetchall()
        held = {shard_id for shard_id, _ in leases}
        self.ddl_conn.execute(load_sql("ingestion/stream_release_leases"), {**params, "keep": sorted(held)})
        for shard_id in list(self._iterators):
            if shard_id not in held:
                del self._iterators[shard_id]
        read = 0
        for shard_id, checkpoint in sorted(leases):
            read += self.poll_shard(shard_id, checkpoint)
        return read

    def sync_shards(self) -> None:
        """Register every shard ListShards gives (children of splits and merges appear here)."""
        shards, token = [], None
        while True:
            page = (self.client.list_shards(NextToken=token) if token
                    else self.client.list_shards(StreamName=self.stream))
            shards.extend(page["Shards"])
            token = page.get("NextToken")
            if not token:
                break
        self._closed = {s["ShardId"]: s["SequenceNumberRange"]["EndingSequenceNumber"] for s in shards
                        if s.get("SequenceNumberRange", {}).get("EndingSequenceNumber")}
        self.ddl_conn.execute(load_sql("ingestion/stream_register_shards"), {
            "stream": self.stream, "shard_ids": [s["ShardId"] for s in shards],
            "parents": [",".join(p for p in (s.get("ParentShardId"), s.get("AdjacentParentShardId")) if p)
                        for s in shards]})
        self._last_sync = time.monotonic()

    # ------------------------------------------------------------------ one shard
    def _iterator(self, shard_id: str, checkpoint: str | None) -> str | None:
        cached = self._iterators.get(shard_id)
        if cached is not None and cached[1] == checkpoint:
            return cached[0]
        if checkpoint is None:
            answer = self.client.get_shard_iterator(StreamName=self.stream, ShardId=shard_id,
                                                    ShardIteratorType="TRIM_HORIZON")
        else:
            answer = self.client.get_shard_iterator(StreamName=self.stream, ShardId=shard_id,
                                                    ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                                    StartingSequenceNumber=checkpoint)
        return answer["ShardIterator"]

    def poll_shard(self, shard_id: str, checkpoint: str | None) -> int:
        """Read one batch of ``shard_id`` after ``checkpoint`` and load it with its checkpoint."""
        iterator = self._iterator(shard_id, checkpoint)
        try:
            answer = self.client.get_records(ShardIterator=iterator, Limit=self.batch_records)
        except self.client.exceptions.ExpiredIteratorException:
            self._iterators.pop(shard_id, None)
            return 0
        records, following = answer["Records"], answer.get("NextShardIterator")
        behind = answer.get("MillisBehindLatest")
        if not records:
            drained = self._drained(shard_id, checkpoint, following, behind)
            if drained or behind is not None:
                try:
                    with self.conn.transaction():
                        self._checkpoint(self.conn, shard_id, checkpoint, checkpoint, 0, behind, drained)
                except LeaseLost:
                    self._iterators.pop(shard_id, None)
                    return 0
            if drained:
                self._iterators.pop(shard_id, None)
                self._last_sync = float("-inf")  # its children may be new
                logger.info("%s %s: drained (closed and read to its end)", self.stream, shard_id)
            else:
                self._iterators[shard_id] = (following, checkpoint)
            return 0
        first, last = records[0]["SequenceNumber"], records[-1]["SequenceNumber"]
        lines = record_lines(record["Data"] for record in records)
        now = self.clock()
        delivery = Delivery(
            f"{self.stream}/{shard_id}/{first}", last, sum(len(r["Data"]) for r in records),
            now.replace(minute=0, second=0, microsecond=0), lambda: lines,
            records[-1].get("ApproximateArrivalTimestamp"),
            checkpoint=lambda conn: self._checkpoint(conn, shard_id, checkpoint, last, len(records), behind,
                                                     following is None))
        self.loader.validator = self.validator_at(now)
        try:
            result = self.loader.load_one(delivery)
        except LeaseLost:
            self._iterators.pop(shard_id, None)
            logger.warning("%s %s: lease lost; the batch was rolled back for the shard's new holder",
                           self.stream, shard_id)
            return 0
        if result.status == "skipped":  # loaded before by a holder whose checkpoint we had not seen
            self._iterators.pop(shard_id, None)
            return 0
        if following is None:
            self._iterators.pop(shard_id, None)
            logger.info("%s %s: drained (closed and read to its end)", self.stream, shard_id)
        else:
            self._iterators[shard_id] = (following, last)
        self.records_loaded += len(records)
        self._log(shard_id, len(records), result, behind)
        return len(records)

    def _drained(self, shard_id: str, checkpoint: str | None, following: str | None, behind: int | None) -> bool:
        """Whether an empty read of ``shard_id`` means it is closed and read to its end (its
        children may start): Kinesis gives no next iterator, or the shard is closed (ListShards
        shows its EndingSequenceNumber) and the checkpoint has reached that number or nothing
        is left behind the read."""
        if following is None:
            return True
        ending = self._closed.get(shard_id)
        if ending is None:
            return False
        return (checkpoint is not None and int(checkpoint) >= int(ending)) or behind == 0

    def _checkpoint(self, conn: psycopg.Connection, shard_id: str, previous: str | None, sequence: str | None,
                    records: int, behind: int | None, drained: bool) -> None:
        updated = conn.execute(load_sql("ingestion/stream_checkpoint"), {
            "stream": self.stream, "shard_id": shard_id, "owner": self.owner, "previous": previous,
            "sequence": sequence, "records": records, "millis_behind": behind, "drained": drained}).fetchone()
        if updated is None:
            raise LeaseLost(shard_id)

    def _log(self, shard_id: str, records: int, result: ObjectIngestResult, behind: int | None) -> None:
        logger.info("%s %s: %d records, %d lines: %d accepted, %d duplicates, %d quarantined; %s ms behind",
                    self.stream, shard_id, records, result.lines_read, result.accepted, result.duplicates,
                    result.quarantined, behind if behind is not None else "?")
