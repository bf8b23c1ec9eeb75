"""Where an ingested line came from, by the ingestion ledger's ``source``.

Each ledger row (``analytics_ingested_objects``) names its source and a key within it; a line is
a position in it. How to read the pair depends on the source, and each kind of source describes
it in its own terms:

* ``usage_logs`` (the S3 sensor): an object key and a line number;
* ``ingest_api``: an API batch, ledger key ``<ingest key id>/<Idempotency-Key or a random id>``,
  and the event's line in the batch;
* ``firehose``: a Firehose HTTP request, ledger key ``<ingest key id>/<request id>``, and the
  event's line among the request's unpacked records;
* ``kinesis``: a run of one shard's records, ledger key ``<stream>/<shard id>/<first sequence
  number>``, and the event's line in that run.

An unknown source is shown as its ledger key and position.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from analytics_pipeline.ingestion.live import FIREHOSE_SOURCE, INGEST_API_SOURCE, KINESIS_SOURCE
from analytics_pipeline.ingestion.loader import USAGE_LOGS_SOURCE


@dataclass(frozen=True)
class SourceRef:
    """One line's origin: its kind, a one-line description, and the fields that locate it."""

    kind: str
    description: str
    fields: dict = field(default_factory=dict)


Describer = Callable[[str, str, int | None], SourceRef]  # (ledger source, ledger key, line) -> SourceRef


def _s3_object(source: str, key: str, line: int | None) -> SourceRef:
    return SourceRef("s3_object", f"object {key}" + (f", line {line}" if line is not None else ""),
                     {"source": source, "object_key": key, "line": line})


def _api_batch(source: str, key: str, line: int | None) -> SourceRef:
    ingest_key, _, batch = key.partition("/")
    return SourceRef("api_batch", f"API batch {batch or key}" + (f", event {line}" if line is not None else ""),
                     {"source": source, "ingest_key_id": ingest_key, "batch": batch or key, "position": line})


def _firehose_request(source: str, key: str, line: int | None) -> SourceRef:
    ingest_key, _, request_id = key.partition("/")
    return SourceRef("firehose_request",
                     f"Firehose request {request_id or key}" + (f", event {line}" if line is not None else ""),
                     {"source": source, "ingest_key_id": ingest_key, "request_id": request_id or key,
                      "position": line})


def _kinesis_records(source: str, key: str, line: int | None) -> SourceRef:
    stream, shard, first_sequence = (key.split("/", 2) + ["", ""])[:3]
    return SourceRef("kinesis_records",
                     f"Kinesis stream {stream}, shard {shard}, records from sequence {first_sequence}"
                     + (f", event {line}" if line is not None else ""),
                     {"source": source, "stream": stream, "shard_id": shard,
                      "first_sequence_number": first_sequence, "position": line})


#: Describers by ledger source (the names the loaders write).
DESCRIBERS: dict[str, Describer] = {
    USAGE_LOGS_SOURCE: _s3_object,
    INGEST_API_SOURCE: _api_batch,
    FIREHOSE_SOURCE: _firehose_request,
    KINESIS_SOURCE: _kinesis_records,
}


def describe_source(source: str, key: str, line: int | None) -> SourceRef:
    """The origin of line ``line`` of ledger entry ``key`` of ``source``."""
    describer = DESCRIBERS.get(source)
    if describer is None:
        return SourceRef("other", f"{source} {key}" + (f", position {line}" if line is not None else ""),
                         {"source": source, "key": key, "position": line})
    return describer(source, key, line)
