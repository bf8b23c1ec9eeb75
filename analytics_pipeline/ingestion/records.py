"""Lines of the live paths: an ingest API body, Firehose and Kinesis records.

Pure Python (no Dagster, no database). What comes out is the loader's input, ``(line_number,
raw, reason, detail)`` tuples (:data:`~analytics_pipeline.ingestion.formats.Line`), decoded by
the same :func:`~analytics_pipeline.ingestion.formats.read_log_lines` as an S3 object, so a
CloudWatch Logs subscription payload, JSON lines or a bad line mean the same on every path.

Limits keep memory bounded whatever arrives: gzip is inflated in chunks and refused as soon as
it passes the decompressed cap (a decompression bomb costs one chunk beyond the cap, never
its full size), and a batch holds at most ``max_events`` lines.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from analytics_pipeline.ingestion.formats import QUARANTINE_HEAD_BYTES, Line, UnknownFormatError, read_log_lines

#: An ingest API batch: at most this many events ...
MAX_BATCH_EVENTS = 10_000
#: ... and this many bytes once decompressed (the body as sent is capped at the same size).
MAX_BATCH_BYTES = 5 * 1024 * 1024
#: A Firehose request or a Kinesis read: Firehose buffers at most 64 MiB per request (its HTTP
#: endpoint's buffer), a Kinesis GetRecords call returns at most 10 MiB.
MAX_RECORDS_BYTES = 64 * 1024 * 1024

_GZIP_MAGIC = b"\x1f\x8b"
_INFLATE_CHUNK = 256 * 1024


@dataclass(frozen=True)
class BatchRefused(ValueError):
    """A batch that is not loaded at all: its HTTP status (400, 413), a stable code and a sentence."""

    status: int
    code: str
    message: str

    def __str__(self) -> str:
        return self.message


def gunzip_capped(data: bytes, limit: int) -> bytes:
    """``data`` inflated (gzip, several members allowed), refused once it passes ``limit`` bytes.

    BatchRefused 413 ``body_too_large`` beyond the limit (checked chunk by chunk, so a bomb
    is never inflated), 400 ``malformed_gzip`` for a corrupt or truncated stream.
    """
    out = bytearray()
    pending = data
    while pending:
        inflater = zlib.decompressobj(31)
        try:
            chunk = inflater.decompress(pending, _INFLATE_CHUNK)
            while True:
                out += chunk
                if len(out) > limit:
                    raise BatchRefused(413, "body_too_large", f"the body is over {limit // 1024 // 1024} MiB "
                                                              "once decompressed")
                if inflater.eof or not inflater.unconsumed_tail and not chunk:
                    break
                chunk = inflater.decompress(inflater.unconsumed_tail, _INFLATE_CHUNK)
        except zlib.error as error:
            raise BatchRefused(400, "malformed_gzip", f"the gzip body is corrupt: {error}") from None
        if not inflater.eof:
            raise BatchRefused(400, "malformed_gzip", "the gzip body is truncated")
        pending = inflater.unused_data.lstrip(b"\x00")  # another member, or the padding some writers add
    return bytes(out)


def batch_lines(body: bytes, *, max_events: int = MAX_BATCH_EVENTS) -> list[Line]:
    """The events of an ingest API body: a JSON array of events, or JSON lines (NDJSON).

    In an array, element *i* is line *i* (1-based) and is kept as its JSON text; bad elements
    are quarantined like bad lines. BatchRefused 400 when the body is neither, 413 beyond
    ``max_events`` events.
    """
    text = body.lstrip(b" \t\r\n\xef\xbb\xbf")
    if text.startswith(b"["):
        try:
            items = orjson.loads(text)
        except orjson.JSONDecodeError as error:
            raise BatchRefused(400, "malformed_json", f"the body is not a valid JSON array ({error})") from None
        if len(items) > max_events:
            raise _too_many(max_events)
        dumps = orjson.dumps
        return [(number, dumps(item), None, None) for number, item in enumerate(items, 1)]
    lines: list[Line] = []
    try:
        for line in read_log_lines(text):
            lines.append(line)
            if len(lines) > max_events:
                raise _too_many(max_events)
    except UnknownFormatError as error:
        raise BatchRefused(400, "malformed_body", f"the body is neither a JSON array of events nor JSON lines "
                                                  f"({error})") from None
    return lines


def _too_many(max_events: int) -> BatchRefused:
    return BatchRefused(413, "too_many_events", f"a batch holds at most {max_events:,} events; split it")


def record_lines(records: Iterable[bytes], *, max_bytes: int = MAX_RECORDS_BYTES) -> list[Line]:
    """The lines of stream records (Firehose, Kinesis), numbered across the records.

    A record is a CloudWatch Logs subscription payload (gzip JSON; ``DATA_MESSAGE`` log events
    are lines, ``CONTROL_MESSAGE`` none) or JSON events (one, or JSON lines), gzip or not. A
    record that is neither, or a corrupt gzip record, is one ``invalid_envelope`` line.
    BatchRefused 413 when the records inflate to more than ``max_bytes`` together.
    """
    lines: list[Line] = []
    budget = max_bytes
    for data in records:
        try:
            plain = gunzip_capped(data, budget) if data.startswith(_GZIP_MAGIC) else data
        except BatchRefused as refusal:
            if refusal.status == 413:
                raise
            lines.append((len(lines) + 1, data[:QUARANTINE_HEAD_BYTES], "invalid_envelope",
                          f"the record's gzip data is corrupt: {refusal.message}"))
            continue
        budget -= len(plain)
        if budget < 0:
            raise BatchRefused(413, "body_too_large", f"the records are over {max_bytes // 1024 // 1024} MiB "
                                                      "once decompressed")
        first = len(lines)
        try:
            for _number, raw, reason, detail in read_log_lines(plain):
                lines.append((len(lines) + 1, raw, reason, detail))
        except UnknownFormatError as error:
            del lines[first:]
            lines.append((len(lines) + 1, plain[:QUARANTINE_HEAD_BYTES], "invalid_envelope",
                          f"the record is neither a CloudWatch Logs payload nor JSON events: {error}"))
    return lines
