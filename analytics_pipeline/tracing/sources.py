"""Where an ingested line came from, by the ingestion ledger's ``source``.

Each ledger row (``analytics_ingested_objects``) names its source and a key within it; a line is
a position in it. How to read the pair depends on the source, and each kind of source describes
it in its own terms:

* ``usage_logs`` (the S3 sensor): an object key and a line number;
* the live path, as it lands: an API batch (its batch / idempotency key and the event's position
  in it), a Firehose HTTP request (its request id and record), a Kinesis record (its shard and
  sequence number). Each registers a describer here under its ledger source name; until then an
  unknown source is shown as its ledger key and position.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


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
    return SourceRef("api_batch", f"API batch {key}" + (f", event {line}" if line is not None else ""),
                     {"source": source, "batch": key, "position": line})


def _firehose_request(source: str, key: str, line: int | None) -> SourceRef:
    return SourceRef("firehose_request", f"Firehose request {key}" + (f", record {line}" if line is not None else ""),
                     {"source": source, "request_id": key, "record": line})


def _kinesis_record(source: str, key: str, line: int | None) -> SourceRef:
    shard, _, sequence = key.partition("/")
    return SourceRef("kinesis_record", f"Kinesis shard {shard}, sequence {sequence or key}",
                     {"source": source, "shard_id": shard, "sequence_number": sequence or key, "position": line})


#: Describers by ledger source. The live sources' names are the ones the live path is to use
#: (kinesis keys as ``shardId/sequenceNumber``); adjust them here when it lands.
DESCRIBERS: dict[str, Describer] = {
    "usage_logs": _s3_object,
    "api": _api_batch,
    "firehose": _firehose_request,
    "kinesis": _kinesis_record,
}


def describe_source(source: str, key: str, line: int | None) -> SourceRef:
    """The origin of line ``line`` of ledger entry ``key`` of ``source``."""
    describer = DESCRIBERS.get(source)
    if describer is None:
        return SourceRef("other", f"{source} {key}" + (f", position {line}" if line is not None else ""),
                         {"source": source, "key": key, "position": line})
    return describer(source, key, line)
