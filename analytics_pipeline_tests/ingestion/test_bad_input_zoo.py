"""A zoo of bad inputs, run through the full pre-load path (formats -> contract).

Every case is a whole log object holding valid events plus exactly one bad
input; the test asserts that the bad input ends as exactly one rejected line
with the expected reason and that nothing raises.
"""

from __future__ import annotations

import gzip
from datetime import datetime, timezone

import orjson
import pytest

from analytics_pipeline.ingestion.contract import QUARANTINE_REASONS, EventValidator
from analytics_pipeline.ingestion.formats import MAX_LINE_BYTES, read_log_lines

NOW = datetime(2026, 1, 27, 12, 0, tzinfo=timezone.utc)
GOOD = {"timestamp": "2026-01-26T21:30:45.123Z", "customer_id": "org_1", "request_id": "req-good"}


def good(i: int = 0) -> bytes:
    return orjson.dumps({**GOOD, "request_id": f"req-good-{i}"})


def with_(**fields) -> bytes:
    obj = {**GOOD, "request_id": "req-bad"}
    for k, v in fields.items():
        if v is ...:
            obj.pop(k)
        else:
            obj[k] = v
    return orjson.dumps(obj)


def raw_field(name: str, literal: bytes) -> bytes:
    return orjson.dumps({**GOOD, "request_id": "req-bad"})[:-1] + b',"' + name.encode() + b'":' + literal + b"}"


def jl(bad_line: bytes) -> bytes:
    """A JSON-lines object: a good line, the bad line, another good line."""
    return good(0) + b"\n" + bad_line + b"\n" + good(1) + b"\n"


def envelope(events: object, message_type: str = "DATA_MESSAGE") -> bytes:
    return orjson.dumps({"messageType": message_type, "owner": "1", "logGroup": "g", "logStream": "s",
                         "subscriptionFilters": ["f"], "logEvents": events})  # fmt: skip


def fh(bad: bytes) -> bytes:
    ok = envelope([{"id": "1", "timestamp": 1, "message": good(0).decode()}])
    ok2 = envelope([{"id": "2", "timestamp": 1, "message": good(1).decode()}])
    return ok + bad + ok2


def truncated_gzip() -> bytes:
    gz = gzip.compress(b"".join(good(i) + b"\n" for i in range(50)))
    return gz[: len(gz) * 2 // 3]


LINE_CASES: list[tuple[str, bytes, str]] = [
    # --- not JSON / not an object
    ("truncated_json", b'{"timestamp": "2026-01-26T21:30:45Z", "customer_id":', "invalid_json"),
    ("plain_text", b"hello, world", "invalid_json"),
    ("trailing_garbage", good(7) + b" trailing", "invalid_json"),
    ("single_quotes", b"{'timestamp': '2026-01-26T21:30:45Z'}", "invalid_json"),
    ("nan_literal", raw_field("duration_ms", b"NaN"), "invalid_json"),
    ("infinity_literal", raw_field("duration_ms", b"Infinity"), "invalid_json"),
    ("double_overflow", raw_field("duration_ms", b"1e400"), "invalid_json"),
    ("deep_nesting", raw_field("x", b"[" * 400 + b"]" * 400), "invalid_json"),
    ("array", b"[1, 2, 3]", "not_an_object"),
    ("string", b'"just a string"', "not_an_object"),
    ("number", b"42", "not_an_object"),
    ("null", b"null", "not_an_object"),
    ("boolean", b"true", "not_an_object"),
    # --- required fields
    ("missing_timestamp", with_(timestamp=...), "missing_field"),
    ("missing_customer_id", with_(customer_id=...), "missing_field"),
    ("missing_request_id", with_(request_id=...), "missing_field"),
    ("null_timestamp", with_(timestamp=None), "missing_field"),
    ("empty_object", b"{}", "missing_field"),
    ("naive_timestamp", with_(timestamp="2026-01-26T21:30:45.123"), "invalid_timestamp"),
    ("garbage_timestamp", with_(timestamp="last tuesday"), "invalid_timestamp"),
    ("epoch_number_timestamp", with_(timestamp=1769463045123), "invalid_timestamp"),
    ("impossible_date", with_(timestamp="2026-02-30T00:00:00Z"), "invalid_timestamp"),
    ("future_timestamp", with_(timestamp="2026-02-15T00:00:00Z"), "timestamp_in_future"),
    ("too_old_timestamp", with_(timestamp="2024-01-01T00:00:00Z"), "timestamp_out_of_retention"),
    ("customer_id_empty", with_(customer_id=""), "invalid_customer_id"),
    ("customer_id_space", with_(customer_id="org 1"), "invalid_customer_id"),
    ("customer_id_too_long", with_(customer_id="o" * 129), "invalid_customer_id"),
    ("customer_id_leading_dash", with_(customer_id="-org"), "invalid_customer_id"),
    ("customer_id_unicode", with_(customer_id="orgé"), "invalid_customer_id"),
    ("customer_id_number", with_(customer_id=1234), "invalid_customer_id"),
    ("request_id_empty", with_(request_id=""), "invalid_request_id"),
    ("request_id_blank", with_(request_id="   "), "invalid_request_id"),
    ("request_id_too_long", with_(request_id="r" * 257), "invalid_request_id"),
    ("request_id_number", with_(request_id=12345), "invalid_request_id"),
    # --- optional fields
    ("status_99", with_(status_code=99), "out_of_range"),
    ("status_600", with_(status_code=600), "out_of_range"),
    ("status_string", with_(status_code="200"), "invalid_type"),
    ("status_true", with_(status_code=True), "invalid_type"),
    ("status_float", with_(status_code=200.0), "invalid_type"),
    ("duration_negative", with_(duration_ms=-1), "out_of_range"),
    ("duration_string", with_(duration_ms="12ms"), "invalid_type"),
    ("queue_wait_bool", with_(queue_wait_ms=False), "invalid_type"),
    ("tokens_huge_integer", raw_field("tokens_consumed", b"123456789012345678901234567890"), "out_of_range"),
    ("tokens_int64_overflow", with_(tokens_input=2**63), "out_of_range"),
    ("tokens_negative", with_(tokens_output=-5), "out_of_range"),
    ("tokens_integral_float", with_(tokens_consumed=2500.0), "invalid_type"),
    ("tokens_string", with_(tokens_input="100"), "invalid_type"),
    ("model_id_number", with_(model_id=7), "invalid_type"),
    ("message_object", with_(message={"text": "hi"}), "invalid_type"),
    # --- encoding
    (
        "invalid_utf8",
        b'{"timestamp":"2026-01-26T21:30:45Z","customer_id":"org_1","request_id":"r\xff\xfe"}',
        "invalid_encoding",
    ),  # fmt: skip
    ("latin1_text", with_(message="caf").replace(b"caf", b"caf\xe9"), "invalid_encoding"),
    ("lone_surrogate_escape", raw_field("message", b'"\\ud83d"'), "invalid_encoding"),
    ("nul_character", with_(message="a\u0000b"), "invalid_encoding"),
    # --- framing
    ("line_too_large", b'{"pad":"' + b"x" * MAX_LINE_BYTES + b'"}', "line_too_large"),
]

OBJECT_CASES: list[tuple[str, bytes, str]] = [
    ("truncated_gzip_fragment", truncated_gzip(), "truncated_object"),
    ("firehose_bad_json", fh(b'{"messageType":"DATA_MESSAGE","logEvents":[{"id":'), "invalid_envelope"),
    ("firehose_logevents_not_list", fh(envelope({"id": "1", "message": "x"})), "invalid_envelope"),
    ("firehose_logevents_missing", fh(b'{"messageType":"DATA_MESSAGE","owner":"1"}'), "invalid_envelope"),
    ("firehose_message_not_string", fh(envelope([{"id": "1", "message": {"timestamp": "x"}}])), "invalid_envelope"),
    ("firehose_log_event_not_object", fh(envelope(["just a string"])), "invalid_envelope"),
    ("firehose_unknown_message_type", fh(envelope([], "WHATEVER")), "invalid_envelope"),
    (
        "firehose_message_invalid_event",
        fh(envelope([{"id": "1", "message": '{"customer_id": "c"}'}])),
        "missing_field",
    ),  # fmt: skip
    (
        "cloudwatch_line_without_prefix",
        b"2026-01-26T21:30:45.000Z " + good(0) + b"\n" + good(5) + b"\n",
        "invalid_envelope",
    ),  # fmt: skip
    ("cloudwatch_empty_message", b"2026-01-26T21:30:45.000Z " + good(0) + b"\n2026-01-26T21:30:46Z \n", "invalid_json"),
    ("gzip_json_lines_bad_line", gzip.compress(jl(b"[]")), "not_an_object"),
]


def run(data: bytes, chunk: int | None = None) -> tuple[list[tuple[int, str | None, str | None]], object]:
    """The loader's pre-load path: (line_number, reason, detail) for every input line."""
    validator = EventValidator(NOW)
    chunks = [data] if chunk is None else [data[i : i + chunk] for i in range(0, len(data), chunk)]
    lines = read_log_lines(chunks)
    results = []
    for n, raw, reason, detail in lines:
        if reason is None:
            row, reason, detail = validator.validate(raw)
            assert (row is None) == (reason is not None)
        results.append((n, reason, detail))
    return results, lines


ALL_CASES = [(name, jl(line), reason) for name, line, reason in LINE_CASES] + OBJECT_CASES


def test_zoo_is_big_and_uses_known_reasons():
    assert len(ALL_CASES) >= 30
    assert len({name for name, _, _ in ALL_CASES}) == len(ALL_CASES)
    assert {reason for _, _, reason in ALL_CASES} <= set(QUARANTINE_REASONS)
    # every reason produced before the loader's duplicate check is exercised
    assert {reason for _, _, reason in ALL_CASES} == set(QUARANTINE_REASONS) - {"conflicting_duplicate"}


@pytest.mark.parametrize("name, data, expected", ALL_CASES, ids=[c[0] for c in ALL_CASES])
def test_bad_input_gets_exact_reason(name, data, expected):
    results, lines = run(data)
    rejected = [(reason, detail) for _, reason, detail in results if reason is not None]
    assert [r for r, _ in rejected] == [expected], rejected
    assert all(isinstance(d, str) and d for _, d in rejected)
    numbers = [n for n, _, _ in results]
    assert numbers == sorted(set(numbers))  # one number per line, increasing
    if expected == "truncated_object":
        assert lines.damage
        assert len(results) >= 2  # the complete lines before the damage are kept
    else:
        assert lines.damage is None
        assert sum(1 for _, r, _ in results if r is None) >= 1


def test_mixed_object_counts_add_up():
    body = b"".join(line + b"\n" + good(i) + b"\n" for i, (_, line, _) in enumerate(LINE_CASES))
    body += b"\n\n   \n"  # blank lines are not input lines
    expected_bad = [reason for _, _, reason in LINE_CASES]
    for data, chunk in ((body, None), (body, 4093), (gzip.compress(body), 517)):
        results, lines = run(data, chunk)
        valid = [n for n, r, _ in results if r is None]
        rejected = [r for _, r, _ in results if r is not None]
        assert len(results) == len(valid) + len(rejected)
        assert len(valid) == len(LINE_CASES)
        assert sorted(rejected) == sorted(expected_bad)
        assert len(results) == 2 * len(LINE_CASES)
        assert lines.damage is None


def test_mixed_firehose_object_counts_add_up():
    cases = [data for name, data, _ in OBJECT_CASES if name.startswith("firehose")]
    data = b"".join(cases)
    results, _ = run(data, 97)
    valid = sum(1 for _, r, _ in results if r is None)
    rejected = sum(1 for _, r, _ in results if r is not None)
    assert valid == 2 * len(cases)
    assert rejected == len(cases)
    assert [n for n, _, _ in results] == list(range(1, valid + rejected + 1))
