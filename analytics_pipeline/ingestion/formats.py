"""Log-object formats: content-based detection and streaming line extraction.

Pure Python (no Dagster).  :func:`read_log_lines` takes the bytes of one S3
object as an iterable of chunks and returns a :class:`LogLines`, which yields
``(line_number, raw_bytes, reason, detail)`` tuples:

* ``reason is None``: ``raw_bytes`` is one event to validate (the JSON text,
  without the line terminator / CloudWatch timestamp prefix / Firehose
  envelope).
* otherwise a pre-validation rejection (a key of
  ``contract.QUARANTINE_REASONS``) with a human ``detail``:
  ``line_too_large`` (``raw_bytes`` = the first 4 KiB), ``invalid_envelope``
  (``raw_bytes`` = the first 4 KiB of the bad record), ``truncated_object``
  (the incomplete trailing fragment of a damaged stream; capped at
  MAX_LINE_BYTES for text formats, 4 KiB for Firehose), ``invalid_encoding``
  (only for Firehose messages containing lone surrogates).
  Invalid UTF-8 in text lines is left to the contract (``invalid_encoding``).

Every yielded tuple is one input "line" that must end as exactly one of
accepted / duplicate / quarantined; nothing else is an input line.

Formats (detected from the content, never from the object name), each either
gzip (magic ``1f 8b``; several concatenated members are fine; trailing NUL
padding is tolerated) or plain:

``json_lines``
    One JSON event per ``\\n``-terminated line.
``cloudwatch_export``
    CloudWatch Logs export-task files: ``<ISO-8601 timestamp> <message>`` per
    line; the message part is yielded.  A line without that prefix is
    ``invalid_envelope``.
``firehose_cloudwatch``
    CloudWatch Logs subscription envelopes written back to back by Kinesis
    Firehose with no delimiter (whitespace between them is tolerated).
    ``CONTROL_MESSAGE`` envelopes are skipped.  Each ``logEvents[i].message``
    of a ``DATA_MESSAGE`` is one line.  Envelope boundaries are found at each
    ``{"messageType"`` occurrence (this text cannot occur inside a JSON
    string, so it is a safe resynchronisation point); each envelope is parsed
    with orjson.  A malformed envelope (bad JSON, missing/non-list
    ``logEvents``, unknown ``messageType``) is ONE ``invalid_envelope`` line
    and parsing resumes at the next ``{"messageType"``.  A single log event
    that is not an object or has no string ``message`` is one
    ``invalid_envelope`` line *for that log event*; its valid siblings are
    still yielded.  Envelopes are buffered one at a time (at most
    MAX_ENVELOPE_BYTES, default 16 MiB; a larger run without a following
    envelope is one ``invalid_envelope`` line and is skipped).

Detection (after optional gunzip, a UTF-8 BOM and leading whitespace are
skipped; the decision only looks at the first DETECT_PEEK_BYTES so it does not
depend on chunk boundaries): ``{`` and the first object has a top-level
``"messageType"`` key -> firehose (fast path: the object literally starts
with ``{"messageType":``); ``{`` otherwise -> json_lines; an ISO-8601
timestamp followed by a space -> cloudwatch_export; anything else ->
:class:`UnknownFormatError` when iteration starts.  An empty object (or one
holding only whitespace) is json_lines with zero lines.

Line numbers
    For json_lines and cloudwatch_export: the 1-based physical line number in
    the (decompressed) object.  Blank / whitespace-only lines are not events:
    they are neither yielded nor counted, so the yielded numbers may have
    gaps, but a number always points at the physical line (``sed -n Np``).
    For firehose: the 1-based ordinal of the log event across all envelopes;
    every bad envelope also takes one number; no gaps.

Other rules: a trailing ``\\r`` is stripped (CRLF files); a BOM is stripped at
the start of the object only; a line longer than MAX_LINE_BYTES is
``line_too_large`` and is never buffered beyond ~MAX_LINE_BYTES + one chunk.
A truncated or corrupt gzip stream keeps every complete line before the
damage, yields the trailing partial fragment (if not blank) as
``truncated_object`` and sets :attr:`LogLines.damage`; the loader must flag
such an object even when it produced no line at all.
"""

from __future__ import annotations

import enum
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from itertools import chain

import orjson

__all__ = [
    "DETECT_PEEK_BYTES",
    "LogFormat",
    "LogLines",
    "MAX_ENVELOPE_BYTES",
    "MAX_LINE_BYTES",
    "QUARANTINE_HEAD_BYTES",
    "UnknownFormatError",
    "read_log_lines",
]


class LogFormat(str, enum.Enum):  # noqa: UP042 - the (str, Enum) API is what the loader expects
    JSON_LINES = "json_lines"
    CLOUDWATCH_EXPORT = "cloudwatch_export"
    FIREHOSE_CLOUDWATCH = "firehose_cloudwatch"


class UnknownFormatError(ValueError):
    """The object's content matches none of the supported formats (message = human reason)."""


MAX_LINE_BYTES = 1024 * 1024
QUARANTINE_HEAD_BYTES = 4096
MAX_ENVELOPE_BYTES = 16 * 1024 * 1024
DETECT_PEEK_BYTES = 64 * 1024

Line = tuple[int, bytes, "str | None", "str | None"]

_INFLATE_CHUNK = 256 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_WBITS = 31  # gzip container only (the magic was checked); 47 would also accept zlib garbage
_BOM = b"\xef\xbb\xbf"
_FIREHOSE_MARKER = b'{"messageType"'
_FIREHOSE_PREFIX = re.compile(rb'\{\s*"messageType"\s*:')
_CW_PREFIX = re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)? ")
_CW_DECIDE_BYTES = 64  # longer than any _CW_PREFIX match, so the decision is chunking-independent
_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


_PY_JSON = json.JSONDecoder(parse_constant=_reject_constant)


class LogLines:
    """The lines of one log object.  Iterate once.

    Attributes (filled in while iterating):
        format: the detected :class:`LogFormat`; set as soon as iteration
            starts (``iter(lines)``), None before or if unknown.
        damage: None for a clean stream, else a human description of the gzip
            damage, e.g. ``"truncated gzip stream after 12345 decompressed
            bytes"`` or ``"corrupt gzip data after N decompressed bytes:
            <zlib msg>"``.  Final once iteration is exhausted.
        compressed: True for gzip, False for plain, None before iteration.
        decompressed_bytes: bytes produced by gunzip (or read, if plain).
    """

    __slots__ = ("_chunks", "_started", "format", "damage", "compressed", "decompressed_bytes")

    def __init__(self, chunks: Iterable[bytes]) -> None:
        if isinstance(chunks, (bytes, bytearray, memoryview)):
            chunks = (bytes(chunks),)
        self._chunks = chunks
        self._started = False
        self.format: LogFormat | None = None
        self.damage: str | None = None
        self.compressed: bool | None = None
        self.decompressed_bytes = 0

    def __repr__(self) -> str:
        return f"LogLines(format={self.format!r}, damage={self.damage!r}, compressed={self.compressed!r})"

    # ------------------------------------------------------------------ public
    def __iter__(self) -> Iterator[tuple[int, bytes, str | None, str | None]]:
        """Detect the format (raising :class:`UnknownFormatError`) and return the line iterator."""
        if self._started:
            raise RuntimeError("LogLines can only be iterated once")
        self._started = True
        stream = self._decompressed(iter(self._chunks))
        fmt, first, line_offset, unknown_reason = self._detect(stream)
        self.format = fmt
        if fmt is None:
            raise UnknownFormatError(unknown_reason)
        if fmt is LogFormat.FIREHOSE_CLOUDWATCH:
            return self._firehose_lines(first, stream)
        return self._text_lines(chain((bytes(first),), stream), line_offset, fmt is LogFormat.CLOUDWATCH_EXPORT)

    # ----------------------------------------------------------- decompression
    def _decompressed(self, it: Iterator[bytes]) -> Iterator[bytes]:
        head = b""
        for c in it:
            if c:
                head += bytes(c)
                if len(head) >= 2:
                    break
        if not head.startswith(_GZIP_MAGIC):
            self.compressed = False
            if head:
                self.decompressed_bytes += len(head)
                yield head
            for c in it:
                if c:
                    if type(c) is not bytes:
                        c = bytes(c)
                    self.decompressed_bytes += len(c)
                    yield c
            return

        self.compressed = True
        total = 0
        d = zlib.decompressobj(_GZIP_WBITS)
        member_has_input = False
        padding = False
        drain = False
        data = head
        try:
            while True:
                if not data and not drain:
                    c = next(it, None)
                    if c is None:
                        break
                    data = c if type(c) is bytes else bytes(c)
                    continue
                drain = False
                if padding:
                    if data.strip(b"\0"):
                        self.damage = (
                            f"non-zero bytes in the padding after the gzip data (after {total} decompressed bytes)"
                        )
                        return
                    data = b""
                    continue
                member_has_input = True
                try:
                    out = d.decompress(data, _INFLATE_CHUNK)
                except zlib.error as e:
                    self.damage = f"corrupt gzip data after {total} decompressed bytes: {e}"
                    return
                if out:
                    total += len(out)
                    self.decompressed_bytes = total
                    yield out
                if d.eof:
                    data = d.unused_data
                    d = zlib.decompressobj(_GZIP_WBITS)
                    member_has_input = False
                    if data[:1] == b"\0":
                        padding = True
                else:
                    data = d.unconsumed_tail
                    # output capped: zlib may hold more output even with no input left
                    drain = not data and len(out) == _INFLATE_CHUNK
            if member_has_input and not d.eof:
                self.damage = f"truncated gzip stream after {total} decompressed bytes"
        finally:
            self.decompressed_bytes = total

    # --------------------------------------------------------------- detection
    def _detect(self, stream: Iterator[bytes]) -> tuple[LogFormat | None, bytearray, int, str]:
        """Returns (format or None, buffered data to parse first, newlines skipped, unknown reason)."""
        buf = bytearray()
        line_offset = 0
        bom_checked = False
        started = False  # a non-whitespace byte has been seen (buf[0] is it)
        eof = False
        it = iter(stream)
        while True:
            chunk = next(it, None)
            if chunk is None:
                eof = True
            else:
                buf += chunk
            if not bom_checked:
                if not eof and len(buf) < 3 and _BOM.startswith(buf):
                    continue
                if buf.startswith(_BOM) or (eof and _BOM.startswith(buf)):  # (a damaged stream may end mid-BOM)
                    del buf[:3]
                bom_checked = True
            if not started:
                stripped = buf.lstrip()
                skipped = len(buf) - len(stripped)
                if skipped:
                    line_offset += buf.count(b"\n", 0, skipped)
                    del buf[:skipped]
                if buf:
                    started = True
                elif eof:
                    return LogFormat.JSON_LINES, buf, line_offset, ""
                else:
                    continue
            if buf[0] == 0x7B:  # "{"
                if _FIREHOSE_PREFIX.match(buf):
                    return LogFormat.FIREHOSE_CLOUDWATCH, buf, 0, ""
                if eof or len(buf) >= DETECT_PEEK_BYTES:
                    fmt = LogFormat.FIREHOSE_CLOUDWATCH if _first_object_has_message_type(buf) else LogFormat.JSON_LINES
                    return fmt, buf, (0 if fmt is LogFormat.FIREHOSE_CLOUDWATCH else line_offset), ""
            elif eof or len(buf) >= _CW_DECIDE_BYTES:
                if _CW_PREFIX.match(buf):
                    return LogFormat.CLOUDWATCH_EXPORT, buf, line_offset, ""
                if eof and self.damage and len(buf) < _CW_DECIDE_BYTES and 48 <= buf[0] <= 57:
                    # a damaged stream that ended inside what may be the first export line:
                    # let it come out as one truncated_object line rather than "unknown format"
                    return LogFormat.CLOUDWATCH_EXPORT, buf, line_offset, ""
                where = "after gunzip, " if self.compressed else ""
                return (
                    None,
                    buf,
                    line_offset,
                    (
                        f"unrecognised log format: {where}the content starts with {bytes(buf[:48])!r}; "
                        "expected '{' (JSON lines or Firehose CloudWatch envelopes) "
                        "or '<ISO-8601 timestamp> ' (CloudWatch export)"
                    ),
                )

    # ------------------------------------------------------ json lines / export
    def _text_lines(
        self, stream: Iterable[bytes], lineno: int, cloudwatch: bool
    ) -> Iterator[tuple[int, bytes, str | None, str | None]]:
        max_len = MAX_LINE_BYTES
        pending: list[bytes] = []  # pieces of the current, not yet terminated line
        plen = 0
        skip_head: bytes | None = None  # head of an oversize line being skipped
        skip_len = 0
        for chunk in stream:
            if skip_head is not None:
                nl = chunk.find(b"\n")
                if nl < 0:
                    skip_len += len(chunk)
                    continue
                skip_len += nl
                lineno += 1
                yield lineno, skip_head, "line_too_large", _too_large_detail(skip_len)
                skip_head = None
                chunk = chunk[nl + 1 :]
            lines = chunk.split(b"\n")
            last = lines.pop()
            if lines:
                if pending:
                    pending.append(lines[0])
                    lines[0] = b"".join(pending)
                    pending = []
                    plen = 0
                for line in lines:
                    lineno += 1
                    if not line:
                        continue
                    if line[-1] == 13:  # CRLF
                        line = line[:-1]
                        if not line:
                            continue
                    if len(line) > max_len:
                        yield lineno, line[:QUARANTINE_HEAD_BYTES], "line_too_large", _too_large_detail(len(line))
                        continue
                    if line[0] <= 32 and line.isspace():
                        continue
                    if cloudwatch:
                        sp = line.find(b" ", 0, 64)
                        if sp < 10 or not 48 <= line[0] <= 57 or line[4] != 45:
                            yield lineno, line[:QUARANTINE_HEAD_BYTES], "invalid_envelope", _CW_BAD_PREFIX
                            continue
                        line = line[sp + 1 :]
                    yield lineno, line, None, None
            if last:
                pending.append(last)
                plen += len(last)
                if plen > max_len + 1:  # +1: a trailing "\r" does not count
                    skip_head = _head(pending)
                    skip_len = plen
                    pending = []
                    plen = 0

        yield from self._unterminated_last_line(lineno, pending, skip_head, skip_len, cloudwatch)

    def _unterminated_last_line(
        self, lineno: int, pending: list[bytes], skip_head: bytes | None, skip_len: int, cloudwatch: bool
    ) -> Iterator[tuple[int, bytes, str | None, str | None]]:
        """The object's last line when no newline ends it: the head of an oversize line being
        skipped, or the pending pieces (a damaged object's is its incomplete fragment)."""
        max_len = MAX_LINE_BYTES
        damage = self.damage
        if skip_head is not None:
            lineno += 1
            if damage:
                yield lineno, skip_head, "truncated_object", f"incomplete final line of >= {skip_len} bytes: {damage}"
            else:
                yield lineno, skip_head, "line_too_large", _too_large_detail(skip_len)
        elif pending:
            line = b"".join(pending)
            if line.isspace():
                return
            lineno += 1
            if damage:
                yield lineno, line, "truncated_object", f"incomplete final line ({len(line)} bytes): {damage}"
                return
            if line[-1] == 13:
                line = line[:-1]
            if len(line) > max_len:
                yield lineno, line[:QUARANTINE_HEAD_BYTES], "line_too_large", _too_large_detail(len(line))
            elif cloudwatch:
                sp = line.find(b" ", 0, 64)
                if sp < 10 or not 48 <= line[0] <= 57 or line[4] != 45:
                    yield lineno, line[:QUARANTINE_HEAD_BYTES], "invalid_envelope", _CW_BAD_PREFIX
                else:
                    yield lineno, line[sp + 1 :], None, None
            else:
                yield lineno, line, None, None

    # ---------------------------------------------------------------- firehose
    def _firehose_lines(
        self, first: bytearray, stream: Iterator[bytes]
    ) -> Iterator[tuple[int, bytes, str | None, str | None]]:
        marker = _FIREHOSE_MARKER
        keep = len(marker) - 1
        buf = first
        start = 0  # start of the current (unterminated) segment
        scan = 1  # where to look for the next marker
        skipping = False
        eof = False
        n = 0
        while True:
            nxt = buf.find(marker, scan)
            if nxt >= 0:
                if skipping:
                    skipping = False
                else:
                    # ---- hot path: a well-formed DATA_MESSAGE envelope
                    seg = buf[start:nxt]
                    try:
                        env = _loads(seg)
                    except _JSONDecodeError:
                        env = None
                    events = env.get("logEvents") if type(env) is dict else None
                    if type(events) is list and env.get("messageType") == "DATA_MESSAGE":
                        for ev in events:
                            n += 1
                            msg = ev.get("message") if type(ev) is dict else None
                            if type(msg) is str:
                                try:
                                    raw = msg.encode()
                                except UnicodeEncodeError:
                                    yield (n, *_bad_message_encoding(msg))
                                    continue
                                if len(raw) > MAX_LINE_BYTES:
                                    yield n, raw[:QUARANTINE_HEAD_BYTES], "line_too_large", _too_large_detail(len(raw))
                                else:
                                    yield n, raw, None, None
                            else:
                                yield (n, *_bad_log_event(ev))
                    else:
                        for item in _segment_items(seg, env, final_damage=None):
                            n += 1
                            yield (n, *item)
                start = nxt
                scan = nxt + 1
                continue
            if eof:
                break
            # need more data
            if not skipping and len(buf) - start > MAX_ENVELOPE_BYTES:
                n += 1
                yield (
                    n,
                    bytes(buf[start : start + QUARANTINE_HEAD_BYTES]),
                    "invalid_envelope",
                    f"envelope longer than {MAX_ENVELOPE_BYTES} bytes (no following envelope); skipped up to the "
                    "next envelope",
                )
                skipping = True
            if skipping:
                start = scan = max(0, len(buf) - keep)
            else:
                scan = max(scan, len(buf) - keep)
            chunk = next(stream, None)
            if chunk is None:
                eof = True
                continue
            if start:
                del buf[:start]
                scan -= start
                start = 0
            buf += chunk
        if not skipping and start < len(buf):
            for item in _segment_items(buf[start:], _UNPARSED, final_damage=self.damage):
                n += 1
                yield (n, *item)


# ---------------------------------------------------------------------- helpers
_CW_BAD_PREFIX = "CloudWatch export line does not start with '<ISO-8601 timestamp> '"
_UNPARSED = object()


def _too_large_detail(size: int) -> str:
    return f"line of {size} bytes exceeds MAX_LINE_BYTES ({MAX_LINE_BYTES}); first {QUARANTINE_HEAD_BYTES} bytes kept"


def _head(pieces: list[bytes]) -> bytes:
    acc: list[bytes] = []
    size = 0
    for p in pieces:
        acc.append(p)
        size += len(p)
        if size >= QUARANTINE_HEAD_BYTES:
            break
    return b"".join(acc)[:QUARANTINE_HEAD_BYTES]


def _first_object_has_message_type(buf: bytearray) -> bool:
    """Detection helper: does the first JSON value in the peek window have a top-level "messageType"?"""
    text = bytes(buf[:DETECT_PEEK_BYTES]).decode("utf-8", "replace")
    try:
        obj, _ = _PY_JSON.raw_decode(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(obj, dict) and "messageType" in obj


def _dump_head(value: object) -> bytes:
    try:
        return orjson.dumps(value)[:QUARANTINE_HEAD_BYTES]
    except TypeError:
        return repr(value).encode("utf-8", "backslashreplace")[:QUARANTINE_HEAD_BYTES]


def _bad_log_event(ev: object) -> tuple[bytes, str, str]:
    if type(ev) is not dict:
        what = f"log event is {type(ev).__name__}, not an object"
    elif "message" not in ev:
        what = "log event has no message"
    else:
        what = f"log event message is {type(ev['message']).__name__}, not a string"
    return _dump_head(ev), "invalid_envelope", what


def _bad_message_encoding(msg: str) -> tuple[bytes, str, str]:
    raw = msg.encode("utf-8", "surrogatepass")[:QUARANTINE_HEAD_BYTES]
    return raw, "invalid_encoding", "log event message contains a lone UTF-16 surrogate"


def _envelope_items(env: object, raw: bytes) -> list[tuple[bytes, str | None, str | None]]:
    """Lines of one parsed envelope (slow path; the hot path is inlined in _firehose_lines)."""
    head = raw[:QUARANTINE_HEAD_BYTES]
    if type(env) is not dict:
        return [(head, "invalid_envelope", f"envelope is a JSON {type(env).__name__}, not an object")]
    mtype = env.get("messageType")
    if mtype == "CONTROL_MESSAGE":
        return []
    if mtype != "DATA_MESSAGE":
        return [(head, "invalid_envelope", f"unknown messageType {mtype!r:.60}")]
    events = env.get("logEvents")
    if type(events) is not list:
        what = "missing" if events is None else f"a {type(events).__name__}, not a list"
        return [(head, "invalid_envelope", f"DATA_MESSAGE logEvents is {what}")]
    items: list[tuple[bytes, str | None, str | None]] = []
    for ev in events:
        msg = ev.get("message") if type(ev) is dict else None
        if type(msg) is not str:
            items.append(_bad_log_event(ev))
            continue
        try:
            line = msg.encode()
        except UnicodeEncodeError:
            items.append(_bad_message_encoding(msg))
            continue
        if len(line) > MAX_LINE_BYTES:
            items.append((line[:QUARANTINE_HEAD_BYTES], "line_too_large", _too_large_detail(len(line))))
        else:
            items.append((line, None, None))
    return items


def _segment_items(
    seg: bytearray, parsed: object, final_damage: str | None
) -> list[tuple[bytes, str | None, str | None]]:
    """Lines of one segment (text between two ``{"messageType"`` markers), slow path.

    ``parsed`` is the orjson result for the segment, None if orjson failed, or
    _UNPARSED.  ``final_damage`` is set for the last segment of a damaged stream.
    """
    raw = bytes(seg).strip()
    if not raw:
        return []
    if parsed is _UNPARSED:
        try:
            parsed = _loads(raw)
        except _JSONDecodeError:
            parsed = None
    if parsed is not None:
        return _envelope_items(parsed, raw)
    if final_damage:
        return [
            (
                raw[:QUARANTINE_HEAD_BYTES],
                "truncated_object",
                f"incomplete final envelope ({len(raw)} bytes): {final_damage}",
            )
        ]
    # Not a single JSON document: maybe several envelopes whose first key is not
    # "messageType", or whitespace-separated ones; split them with raw_decode.
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return [(raw[:QUARANTINE_HEAD_BYTES], "invalid_envelope", f"envelope is not valid UTF-8 at byte {e.start}")]
    items: list[tuple[bytes, str | None, str | None]] = []
    pos = 0
    end = len(text)
    while pos < end:
        try:
            env, stop = _PY_JSON.raw_decode(text, pos)
        except (ValueError, RecursionError) as e:
            rest = text[pos:].encode("utf-8", "surrogatepass")
            msg = e.msg if isinstance(e, json.JSONDecodeError) else str(e) or type(e).__name__
            items.append((rest[:QUARANTINE_HEAD_BYTES], "invalid_envelope", f"envelope is not valid JSON: {msg:.150}"))
            break
        items.extend(_envelope_items(env, text[pos:stop].encode("utf-8", "surrogatepass")))
        pos = stop
        while pos < end and text[pos] in " \t\r\n":
            pos += 1
    return items


def read_log_lines(chunks: Iterable[bytes]) -> LogLines:
    """Stream the lines of one log object given as an iterable of byte chunks.

    The format is detected from the content when iteration starts (raising
    :class:`UnknownFormatError` for unsupported content).  See the module
    docstring for the yielded tuples, line numbering and damage handling.
    """
    return LogLines(chunks)
