"""Tests for log-object format detection and line streaming (analytics_pipeline.ingestion.formats)."""

from __future__ import annotations

import gzip
import itertools
import time
import tracemalloc
import zlib
from collections.abc import Iterable, Iterator

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics_pipeline.ingestion import formats
from analytics_pipeline.ingestion.formats import (
    MAX_LINE_BYTES,
    LogFormat,
    LogLines,
    UnknownFormatError,
    read_log_lines,
)

BOM = b"\xef\xbb\xbf"


def event(i: int, **extra) -> bytes:
    return orjson.dumps(
        {"timestamp": "2026-01-26T21:30:45.123Z", "customer_id": "org_1", "request_id": f"req-{i}", **extra}
    )


def json_lines(n: int, start: int = 0) -> bytes:
    return b"".join(event(i) + b"\n" for i in range(start, start + n))


def cloudwatch_export(n: int, start: int = 0) -> bytes:
    return b"".join(b"2026-01-26T21:30:45.%03dZ " % (i % 1000) + event(i) + b"\n" for i in range(start, start + n))


def envelope(messages: list, message_type: str = "DATA_MESSAGE", first_id: int = 0) -> bytes:
    return orjson.dumps(
        {
            "messageType": message_type,
            "owner": "123456789012",
            "logGroup": "/aws/api/usage",
            "logStream": "stream-1",
            "subscriptionFilters": ["usage"],
            "logEvents": [
                {"id": str(first_id + k), "timestamp": 1769463045123, "message": m} for k, m in enumerate(messages)
            ],
        }
    )


def control() -> bytes:
    return envelope(["CWL CONTROL MESSAGE: Checking health of destination Firehose."], "CONTROL_MESSAGE")


def firehose(n: int, per_envelope: int = 3, start: int = 0) -> bytes:
    parts = []
    ids = list(range(start, start + n))
    for k in range(0, n, per_envelope):
        parts.append(envelope([event(i).decode() for i in ids[k : k + per_envelope]]))
    return b"".join(parts)


def split(data: bytes, size: int | None) -> list[bytes]:
    if size is None:
        return [data]
    return [data[i : i + size] for i in range(0, len(data), size)]


def read(data: bytes, chunk: int | None = None) -> tuple[LogLines, list]:
    lines = read_log_lines(split(data, chunk))
    return lines, list(lines)


def payloads(out: list) -> list[bytes]:
    assert all(reason is None for _, _, reason, _ in out), [(n, r, d) for n, _, r, d in out if r]
    return [raw for _, raw, _, _ in out]


GENERATORS = {
    LogFormat.JSON_LINES: json_lines,
    LogFormat.CLOUDWATCH_EXPORT: cloudwatch_export,
    LogFormat.FIREHOSE_CLOUDWATCH: firehose,
}


# ---------------------------------------------------------------- each format


@pytest.mark.parametrize("fmt", list(LogFormat))
@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("chunk", [None, 1, 7, 4096])
def test_each_format_plain_and_gzip(fmt, compress, chunk):
    data = GENERATORS[fmt](10)
    if compress:
        data = gzip.compress(data)
    lines, out = read(data, chunk)
    assert lines.format is fmt
    assert lines.damage is None
    assert lines.compressed is compress
    assert payloads(out) == [event(i) for i in range(10)]
    assert [n for n, *_ in out] == list(range(1, 11))


def test_api_surface():
    assert [f.value for f in LogFormat] == ["json_lines", "cloudwatch_export", "firehose_cloudwatch"]
    assert LogFormat("json_lines") is LogFormat.JSON_LINES and LogFormat.JSON_LINES == "json_lines"
    with pytest.raises(ValueError, match="unrecognised log format") as refused:  # what callers may catch
        list(read_log_lines([b"hello world\n"]))
    assert type(refused.value) is UnknownFormatError
    assert MAX_LINE_BYTES == 1024 * 1024


def test_format_known_when_iteration_starts_and_single_use():
    lines = read_log_lines([json_lines(2)])
    assert lines.format is None
    it = iter(lines)
    assert lines.format is LogFormat.JSON_LINES
    assert len(list(it)) == 2
    with pytest.raises(RuntimeError):
        iter(lines)


def test_bytes_object_accepted_as_single_chunk():
    assert len(list(read_log_lines(json_lines(3)))) == 3


def test_empty_object_is_json_lines_with_no_lines():
    for data in (b"", BOM, b"  \n\r\n\t ", gzip.compress(b""), gzip.compress(b"\n\n")):
        lines, out = read(data)
        assert (lines.format, out, lines.damage) == (LogFormat.JSON_LINES, [], None), data


def test_multi_member_gzip():
    data = gzip.compress(json_lines(3)) + gzip.compress(json_lines(2, start=3)) + gzip.compress(b"")
    for chunk in (None, 1, 5):
        lines, out = read(data, chunk)
        assert lines.damage is None
        assert payloads(out) == [event(i) for i in range(5)]


def test_gzip_member_boundary_inside_a_line():
    text = json_lines(4)
    cut = len(text) // 2 + 3  # in the middle of a line
    data = gzip.compress(text[:cut]) + gzip.compress(text[cut:])
    _, out = read(data, 11)
    assert payloads(out) == [event(i) for i in range(4)]


def test_gzip_trailing_nul_padding_is_tolerated():
    lines, out = read(gzip.compress(json_lines(2)) + b"\0" * 100, 9)
    assert lines.damage is None and len(payloads(out)) == 2


def test_gzip_trailing_garbage_sets_damage_but_keeps_lines():
    lines, out = read(gzip.compress(json_lines(2)) + b"this is not gzip")
    assert len(payloads(out)) == 2
    assert lines.damage is not None and lines.damage.startswith("corrupt gzip data")


def test_large_gzip_output_is_bounded_per_chunk():
    # highly compressible: one small compressed chunk inflates to many MB
    data = gzip.compress(json_lines(1) * 50_000)
    seen = []
    for chunk in read_log_lines([data])._decompressed(iter([data])):
        seen.append(len(chunk))
    assert sum(seen) == len(json_lines(1)) * 50_000
    assert max(seen) <= formats._INFLATE_CHUNK


# -------------------------------------------------------------------- firehose


def test_firehose_control_messages_skipped_and_envelopes_back_to_back():
    data = control() + firehose(4, per_envelope=2) + control() + control() + firehose(3, per_envelope=1, start=4)
    for chunk in (None, 1, 7, 64):
        lines, out = read(data, chunk)
        assert lines.format is LogFormat.FIREHOSE_CLOUDWATCH
        assert payloads(out) == [event(i) for i in range(7)]
        assert [n for n, *_ in out] == list(range(1, 8))


def test_firehose_gzip_chunked():
    data = gzip.compress(control() + firehose(9, per_envelope=4))
    for chunk in (1, 7):
        _, out = read(data, chunk)
        assert payloads(out) == [event(i) for i in range(9)]


def test_firehose_whitespace_between_envelopes():
    data = firehose(1) + b"\n" + firehose(1, start=1) + b" \r\n\t" + firehose(1, start=2) + b"\n"
    _, out = read(data, 3)
    assert payloads(out) == [event(0), event(1), event(2)]


def test_firehose_detected_when_message_type_is_not_the_first_key():
    env = orjson.dumps(
        {"owner": "1", "logEvents": [{"id": "1", "message": event(0).decode()}], "messageType": "DATA_MESSAGE"}
    )
    data = env + env
    for chunk in (None, 1):
        lines, out = read(data, chunk)
        assert lines.format is LogFormat.FIREHOSE_CLOUDWATCH
        assert payloads(out) == [event(0), event(0)]


def test_json_lines_with_nested_message_type_is_not_firehose():
    data = orjson.dumps({"meta": {"messageType": "x"}, "request_id": "r"}) + b"\n" + event(1) + b"\n"
    lines, out = read(data)
    assert lines.format is LogFormat.JSON_LINES and len(out) == 2


def test_firehose_bad_envelope_resyncs_at_next_envelope():
    data = (
        firehose(2)
        + b'{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","message":"x"}'  # cut short: bad JSON
        + firehose(1, start=2)
        + b'{"messageType":"DATA_MESSAGE","logEvents":"nope"}'
        + b'{"messageType":"DATA_MESSAGE"}'
        + b'{"messageType":"SOMETHING_ELSE","logEvents":[]}'
        + b'{"messageType" : garbage garbage'
        + firehose(1, start=3)
    )
    for chunk in (None, 1, 7):
        lines, out = read(data, chunk)
        assert lines.damage is None
        assert [n for n, *_ in out] == list(range(1, len(out) + 1))
        reasons = [r for _, _, r, _ in out]
        assert reasons == [None, None, "invalid_envelope", None, "invalid_envelope", "invalid_envelope",
                           "invalid_envelope", "invalid_envelope", None]  # fmt: skip
        good = [raw for _, raw, r, _ in out if r is None]
        assert good == [event(0), event(1), event(2), event(3)]
        details = [d for _, _, r, d in out if r]
        assert "not valid JSON" in details[0]
        assert "logEvents is a str" in details[1]
        assert "logEvents is missing" in details[2]
        assert "unknown messageType" in details[3]
        assert all(len(raw) <= formats.QUARANTINE_HEAD_BYTES for _, raw, r, _ in out if r)


def test_firehose_bad_log_event_does_not_drop_siblings():
    env = orjson.dumps(
        {
            "messageType": "DATA_MESSAGE",
            "logEvents": [
                {"id": "1", "message": event(0).decode()},
                {"id": "2", "message": 42},
                {"id": "3"},
                "not an object",
                {"id": "5", "message": event(1).decode()},
            ],
        }
    )
    _, out = read(env)
    assert [(n, r) for n, _, r, _ in out] == [
        (1, None), (2, "invalid_envelope"), (3, "invalid_envelope"), (4, "invalid_envelope"), (5, None),
    ]  # fmt: skip
    assert out[0][1] == event(0) and out[4][1] == event(1)
    assert "not a string" in out[1][3] and "no message" in out[2][3] and "not an object" in out[3][3]


def test_firehose_message_with_unicode_and_escapes():
    msg = orjson.dumps({"timestamp": "2026-01-26T21:30:45Z", "customer_id": "c", "request_id": "r", "m": 'é "q" \\ \n'})
    _, out = read(envelope([msg.decode()]))
    assert payloads(out) == [msg]


def test_firehose_oversize_envelope_skipped(monkeypatch):
    monkeypatch.setattr(formats, "MAX_ENVELOPE_BYTES", 10_000)
    huge = b'{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","message":"' + b"x" * 50_000 + b'"}]}'
    data = firehose(1) + huge + firehose(1, start=1)
    lines, out = read(data, 1000)
    assert [r for _, _, r, _ in out] == [None, "invalid_envelope", None]
    assert "longer than 10000" in out[1][3]
    assert [raw for _, raw, r, _ in out if r is None] == [event(0), event(1)]


def test_firehose_message_too_large():
    big = "x" * (MAX_LINE_BYTES + 1)
    _, out = read(envelope([big, event(0).decode()]))
    assert [r for _, _, r, _ in out] == ["line_too_large", None]
    assert out[0][1] == b"x" * formats.QUARANTINE_HEAD_BYTES


# ------------------------------------------------------------ text line rules


def test_crlf_bom_blank_lines_and_physical_numbering():
    data = BOM + b"\r\n" + event(0) + b"\r\n   \r\n\r\n" + event(1) + b"\r\n\t\n" + event(2)  # last without newline
    for chunk in (None, 1, 2, 3):
        lines, out = read(data, chunk)
        assert lines.format is LogFormat.JSON_LINES
        assert [(n, raw) for n, raw, _, _ in out] == [(2, event(0)), (5, event(1)), (7, event(2))]


def test_leading_whitespace_before_detection_keeps_numbering():
    data = b"\n\n  \n" + json_lines(2)
    _, out = read(data, 1)
    assert [n for n, *_ in out] == [4, 5]


def test_bom_only_stripped_at_object_start():
    data = event(0) + b"\n" + BOM + event(1) + b"\n"
    _, out = read(data)
    assert out[1][1] == BOM + event(1)  # left for the contract to reject as invalid_json


def test_cloudwatch_export_prefix_variants_and_bad_lines():
    data = (
        b"2026-01-26T21:30:45.123Z " + event(0) + b"\n"
        + b"2026-01-26T23:30:45.123456+02:00 " + event(1) + b"\r\n"
        + b"not-a-timestamp " + event(2) + b"\n"
        + event(3) + b"\n"
        + b"2026-01-26T21:30:45Z \n"
    )  # fmt: skip
    lines, out = read(data, 5)
    assert lines.format is LogFormat.CLOUDWATCH_EXPORT
    assert [(n, r) for n, _, r, _ in out] == [
        (1, None), (2, None), (3, "invalid_envelope"), (4, "invalid_envelope"), (5, None),
    ]  # fmt: skip
    assert out[0][1] == event(0) and out[1][1] == event(1)
    assert out[4][1] == b""  # an empty message is still a log event: the contract rejects it


def test_unknown_format_raises():
    for data in (
        b"hello world\n",
        b"[1,2,3]\n",
        b"2026-01-26 is a date\n",
        b"\x00\x01\x02",
        gzip.compress(b"plain text\n"),
    ):
        lines = read_log_lines([data])
        with pytest.raises(UnknownFormatError) as exc:
            list(lines)
        assert "unrecognised log format" in str(exc.value)
        assert lines.format is None


def test_unknown_format_detection_is_chunking_independent():
    data = b"20260126 hello\n"
    for chunk in (None, 1):
        with pytest.raises(UnknownFormatError):
            list(read_log_lines(split(data, chunk)))


# ------------------------------------------------------------------- damage


def test_truncated_gzip_keeps_complete_lines_and_yields_fragment():
    text = json_lines(200)
    gz = gzip.compress(text)
    cut = gz[: len(gz) // 2]
    for chunk in (None, 1, 7):
        lines, out = read(cut, chunk)
        assert lines.damage is not None and lines.damage.startswith("truncated gzip stream after ")
        good = [raw for _, raw, r, _ in out if r is None]
        assert good == [event(i) for i in range(len(good))]
        assert 0 < len(good) < 200
        n, frag, reason, detail = out[-1]
        assert reason == "truncated_object" and n == len(good) + 1
        assert event(len(good)).startswith(frag) and frag  # a strict prefix of the next line
        assert "truncated gzip" in detail
        assert str(lines.decompressed_bytes) in lines.damage


def test_truncated_gzip_exactly_at_line_boundary_has_no_fragment():
    # flush the compressor after a complete line, then cut the stream right there
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    data = comp.compress(json_lines(3)) + comp.flush(zlib.Z_SYNC_FLUSH)
    lines, out = read(data)
    assert lines.damage and "truncated" in lines.damage
    assert payloads(out) == [event(0), event(1), event(2)]


def test_corrupt_gzip():
    gz = bytearray(gzip.compress(json_lines(300)))
    mid = len(gz) // 2
    gz[mid : mid + 40] = b"\xff" * 40
    lines, out = read(bytes(gz), 512)
    assert lines.damage is not None and lines.damage.startswith("corrupt gzip data")
    reasons = [r for _, _, r, _ in out]
    assert set(reasons) <= {None, "truncated_object"}
    assert reasons.count("truncated_object") <= 1 and (not reasons or reasons[-1] in (None, "truncated_object"))
    assert len(out) < 300


def test_corrupt_gzip_crc_mismatch():
    gz = bytearray(gzip.compress(json_lines(3)))
    gz[-8] ^= 0xFF  # CRC32 of the member
    lines, out = read(bytes(gz))
    assert lines.damage and "corrupt gzip" in lines.damage


def test_truncated_firehose_object():
    gz = gzip.compress(firehose(30, per_envelope=5))
    lines, out = read(gz[: int(len(gz) * 0.8)], 3)
    assert lines.damage
    assert out[-1][2] == "truncated_object"
    good = [raw for _, raw, r, _ in out if r is None]
    assert good == [event(i) for i in range(len(good))]


# ------------------------------------------------------------- large inputs


def test_line_too_large_with_bounded_memory():
    size = 24 * 1024 * 1024
    piece = b"x" * 65536

    def chunks() -> Iterator[bytes]:
        yield event(0) + b"\n" + b'{"big":"'
        for _ in range(size // len(piece)):
            yield piece
        yield b'"}\n' + event(1) + b"\n"

    tracemalloc.start()
    try:
        out = list(read_log_lines(chunks()))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(n, r) for n, _, r, _ in out] == [(1, None), (2, "line_too_large"), (3, None)]
    n, head, reason, detail = out[1]
    assert head == (b'{"big":"' + b"x" * 5000)[: formats.QUARANTINE_HEAD_BYTES]
    assert str(MAX_LINE_BYTES) in detail
    assert peak < 4 * MAX_LINE_BYTES, peak  # ~MAX_LINE_BYTES + a chunk, not 24 MiB
    assert out[2][1] == event(1)


def test_line_limit_boundary():
    exact = b"{" + b" " * (MAX_LINE_BYTES - 2) + b"}"
    assert len(exact) == MAX_LINE_BYTES
    data = exact + b"\r\n" + exact + b"x\n" + exact + b"\r\n"
    for chunk in (None, 100_000):
        _, out = read(data, chunk)
        assert [r for _, _, r, _ in out] == [None, "line_too_large", None]
        assert out[0][1] == exact


def test_line_too_large_at_end_without_newline():
    _, out = read(event(0) + b"\n" + b"{" + b"y" * (MAX_LINE_BYTES + 10), 65536)
    assert [r for _, _, r, _ in out] == [None, "line_too_large"]


def test_million_lines_streamed_from_a_generator():
    block = json_lines(1000)

    def chunks() -> Iterator[bytes]:
        for _ in range(1000):
            yield block  # never materialises the 1,000,000-line object

    t0 = time.perf_counter()
    count = 0
    last = 0
    for n, _, reason, _ in read_log_lines(chunks()):
        count += 1
        last = n
        assert reason is None
    assert count == 1_000_000 and last == 1_000_000
    assert time.perf_counter() - t0 < 20


# --------------------------------------------------------------- properties


def _mixed_objects() -> dict[str, bytes]:
    jl = BOM + json_lines(5) + b"\r\n\n" + b"{broken\n" + event(99)
    cw = cloudwatch_export(5) + b"garbage\n"
    fh = (
        control()
        + firehose(5, per_envelope=2)
        + b'{"messageType":"DATA_MESSAGE","logEvents":{}}'
        + firehose(1, start=5)
    )
    return {"jl": jl, "cw": cw, "fh": fh, "jl.gz": gzip.compress(jl), "fh.gz": gzip.compress(fh) + gzip.compress(fh)}


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(sorted(_mixed_objects())), cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_output_does_not_depend_on_chunk_boundaries(kind, cuts):
    data = _mixed_objects()[kind]
    reference = list(read_log_lines([data]))
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces = [data[a:b] for a, b in itertools.pairwise([0, *points, len(data)])]
    lines = read_log_lines(pieces)
    assert list(lines) == reference
    assert lines.damage is None


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(["jl", "fh", "cw"]), frac=st.floats(0.05, 0.95), chunk=st.sampled_from([1, 13, 4096]))
def test_any_truncation_point_never_raises_and_accounts_for_every_line(kind, frac, chunk):
    data = gzip.compress(_mixed_objects()[kind])  # one member: every cut is inside it
    cut = data[: int(len(data) * frac)]
    lines, out = read(cut, chunk)
    assert lines.damage
    numbers = [n for n, *_ in out]
    assert numbers == sorted(set(numbers))
    assert all(r in (None, "invalid_envelope", "truncated_object") for _, _, r, _ in out)


def _iter_chunks(data: bytes, size: int) -> Iterable[bytes]:
    return (data[i : i + size] for i in range(0, len(data), size))


def test_accepts_bytearray_and_memoryview_chunks():
    data = gzip.compress(json_lines(3))
    chunks = [bytearray(c) if i % 2 else memoryview(c) for i, c in enumerate(_iter_chunks(data, 5))]
    assert payloads(list(read_log_lines(chunks))) == [event(i) for i in range(3)]
