"""Tests for the usage-event contract (analytics_pipeline.ingestion.contract)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics_pipeline.ingestion import contract
from analytics_pipeline.ingestion.contract import (
    EVENT_COLUMNS,
    INT64_MAX,
    QUARANTINE_REASONS,
    EventValidator,
    validate_event,
)

UTC = timezone.utc
NOW = datetime(2026, 1, 27, 12, 0, 0, tzinfo=UTC)
COL = {name: i for i, name in enumerate(EVENT_COLUMNS)}

BASE = {
    "timestamp": "2026-01-26T21:30:45.123Z",
    "customer_id": "org_42",
    "request_id": "req-0001",
}
FULL = {
    **BASE,
    "endpoint": "/v1/chat/completions",
    "method": "POST",
    "status_code": 200,
    "duration_ms": 1234.5,
    "tokens_consumed": 2500,
    "tokens_input": 2000,
    "tokens_output": 500,
    "model_id": "model-large",
    "event_type": "api_request",
    "agent_type": "planner",
    "tool_name": "search",
    "queue_wait_ms": 12,
    "session_id": "sess-1",
    "level": "INFO",
    "message": "request completed",
    "user_id": "user-7",
    "error_type": "rate_limited",
}


@pytest.fixture(scope="module")
def v() -> EventValidator:
    return EventValidator(NOW)


def ok(v: EventValidator, obj: dict | bytes) -> tuple:
    raw = obj if isinstance(obj, bytes) else orjson.dumps(obj)
    row, reason, detail = v.validate(raw)
    assert reason is None and detail is None, (reason, detail)
    assert row is not None and len(row) == len(EVENT_COLUMNS)
    return row


def bad(v: EventValidator, obj: dict | bytes) -> tuple[str, str]:
    raw = obj if isinstance(obj, bytes) else orjson.dumps(obj)
    row, reason, detail = v.validate(raw)
    assert row is None
    assert reason in QUARANTINE_REASONS
    assert isinstance(detail, str) and detail
    return reason, detail


# --------------------------------------------------------------------------- API


def test_event_columns_exact():
    assert EVENT_COLUMNS == (
        "event_time", "organization_id", "request_id", "endpoint", "method", "status_code", "duration_ms",
        "tokens_consumed", "tokens_input", "tokens_output", "model_id", "event_type", "agent_type", "tool_name",
        "queue_wait_ms", "session_id", "level", "message", "user_id", "error_type", "attributes", "content_hash",
    )  # fmt: skip


def test_field_tables_give_each_optional_column_exactly_one_kind():
    # the explaining path checks optional fields from these tables, in column order
    kinds = [*contract.STRING_FIELDS, *contract.INT_RANGES, *contract.NUMBER_FIELDS]
    assert sorted(kinds) == sorted(contract.OPTIONAL_FIELDS)
    assert len(set(kinds)) == len(kinds)
    assert EVENT_COLUMNS == ("event_time", "organization_id", "request_id", *contract.OPTIONAL_FIELDS,
                             "attributes", "content_hash")  # fmt: skip


def test_quarantine_reasons_taxonomy():
    expected = {
        "invalid_json", "not_an_object", "missing_field", "invalid_timestamp", "timestamp_in_future",
        "timestamp_out_of_retention", "invalid_customer_id", "invalid_request_id", "invalid_type", "out_of_range",
        "invalid_encoding", "line_too_large", "invalid_envelope", "truncated_object", "conflicting_duplicate",
    }  # fmt: skip
    assert set(QUARANTINE_REASONS) == expected
    assert all(isinstance(d, str) and len(d) > 20 for d in QUARANTINE_REASONS.values())


def test_naive_now_rejected():
    with pytest.raises(ValueError):
        EventValidator(datetime(2026, 1, 27))


# ----------------------------------------------------------------- valid events


def test_full_event_round_trip(v):
    row = ok(v, FULL)
    assert row[COL["event_time"]] == datetime(2026, 1, 26, 21, 30, 45, 123000, tzinfo=UTC)
    assert row[COL["organization_id"]] == "org_42"
    assert row[COL["request_id"]] == "req-0001"
    assert row[COL["endpoint"]] == "/v1/chat/completions"
    assert row[COL["method"]] == "POST"
    assert row[COL["status_code"]] == 200 and type(row[COL["status_code"]]) is int
    assert row[COL["duration_ms"]] == 1234.5
    assert (row[COL["tokens_consumed"]], row[COL["tokens_input"]], row[COL["tokens_output"]]) == (2500, 2000, 500)
    assert row[COL["model_id"]] == "model-large"
    assert row[COL["event_type"]] == "api_request"
    assert row[COL["agent_type"]] == "planner"
    assert row[COL["tool_name"]] == "search"
    assert row[COL["queue_wait_ms"]] == 12.0 and type(row[COL["queue_wait_ms"]]) is float
    assert row[COL["session_id"]] == "sess-1"
    assert row[COL["level"]] == "INFO"
    assert row[COL["message"]] == "request completed"
    assert row[COL["user_id"]] == "user-7"
    assert row[COL["error_type"]] == "rate_limited"  # stored on a 200 too: metrics ignore it there
    assert row[COL["attributes"]] is None
    canonical = orjson.dumps(FULL, option=orjson.OPT_SORT_KEYS)
    assert row[COL["content_hash"]] == hashlib.md5(canonical).hexdigest()


def test_minimal_event_optional_columns_are_none(v):
    row = ok(v, BASE)
    for name in EVENT_COLUMNS[3:-2]:
        assert row[COL[name]] is None, name


def test_offset_converted_to_utc_and_truncated_to_ms(v):
    row = ok(v, {**BASE, "timestamp": "2026-01-26T23:30:45.123999+02:00"})
    t = row[COL["event_time"]]
    assert t == datetime(2026, 1, 26, 21, 30, 45, 123000, tzinfo=UTC)
    assert t.tzinfo is UTC and t.microsecond == 123000


@pytest.mark.parametrize(
    "ts, expected",
    [
        ("2026-01-26T21:30:45Z", datetime(2026, 1, 26, 21, 30, 45, tzinfo=UTC)),
        ("2026-01-26T21:30:45.1Z", datetime(2026, 1, 26, 21, 30, 45, 100000, tzinfo=UTC)),
        ("2026-01-26T21:30:45.000999Z", datetime(2026, 1, 26, 21, 30, 45, tzinfo=UTC)),
        ("2026-01-26T21:30:45.123+00:00", datetime(2026, 1, 26, 21, 30, 45, 123000, tzinfo=UTC)),
        ("2026-01-26T16:00:00-05:30", datetime(2026, 1, 26, 21, 30, tzinfo=UTC)),
        ("2026-01-27T00:30:00.5+03:00", datetime(2026, 1, 26, 21, 30, 0, 500000, tzinfo=UTC)),
    ],
)
def test_timestamp_variants(v, ts, expected):
    t = ok(v, {**BASE, "timestamp": ts})[COL["event_time"]]
    assert t == expected and t.tzinfo is UTC


def test_int_duration_stored_as_float(v):
    row = ok(v, {**BASE, "duration_ms": 15, "queue_wait_ms": 0})
    assert row[COL["duration_ms"]] == 15.0 and type(row[COL["duration_ms"]]) is float
    assert row[COL["queue_wait_ms"]] == 0.0 and type(row[COL["queue_wait_ms"]]) is float


def test_null_optional_fields_are_absent(v):
    nulls = {name: None for name in contract.OPTIONAL_FIELDS}
    row = ok(v, {**BASE, **nulls})
    for name in EVENT_COLUMNS[3:-2]:
        assert row[COL[name]] is None
    assert row[COL["attributes"]] is None


@pytest.mark.parametrize(
    "field, value",
    [
        ("status_code", 100),
        ("status_code", 599),
        ("tokens_consumed", 0),
        ("tokens_consumed", INT64_MAX),
        ("tokens_input", INT64_MAX),
        ("tokens_output", 0),
        ("duration_ms", 0),
        ("duration_ms", 0.0),
        ("duration_ms", 1e300),
        ("queue_wait_ms", 0.001),
        ("endpoint", ""),
        ("message", "x" * 100_000),
        ("message", "ünïcødé ✓ \U0001f600"),
        ("user_id", "u"),
        ("user_id", "ü" * 256),
        ("user_id", " "),
        ("error_type", "e" * 64),
    ],
)
def test_boundary_values_accepted(v, field, value):
    row = ok(v, {**BASE, field: value})
    stored = row[COL[field]]
    assert stored == value
    if field in contract.NUMBER_FIELDS:
        assert type(stored) is float


def test_tokens_consumed_alone_is_not_derived(v):
    row = ok(v, {**BASE, "tokens_consumed": 7})
    assert (row[COL["tokens_consumed"]], row[COL["tokens_input"]], row[COL["tokens_output"]]) == (7, None, None)


def test_customer_and_request_id_limits(v):
    ok(v, {**BASE, "customer_id": "A" + "b" * 127})
    ok(v, {**BASE, "customer_id": "0rg.a_b:c-d"})
    ok(v, {**BASE, "request_id": "r" * 256})
    ok(v, {**BASE, "request_id": " padded id "})
    assert bad(v, {**BASE, "customer_id": "A" + "b" * 128})[0] == "invalid_customer_id"
    assert bad(v, {**BASE, "request_id": "r" * 257})[0] == "invalid_request_id"


# -------------------------------------------------------------- unknown fields


def test_unknown_fields_kept_as_sorted_json(v):
    row = ok(v, {**BASE, "zeta": 1, "region": "eu-west-1", "sdk": {"v": "1.2", "name": "py"}, "flag": None})
    attrs = row[COL["attributes"]]
    assert isinstance(attrs, str)
    assert json.loads(attrs) == {"zeta": 1, "region": "eu-west-1", "sdk": {"v": "1.2", "name": "py"}, "flag": None}
    assert attrs == '{"flag":null,"region":"eu-west-1","sdk":{"name":"py","v":"1.2"},"zeta":1}'


def test_known_null_plus_unknown(v):
    row = ok(v, {**BASE, "endpoint": None, "extra": [1, 2]})
    assert row[COL["endpoint"]] is None
    assert row[COL["attributes"]] == '{"extra":[1,2]}'


def test_unknown_field_with_escaped_backslash_u0000_text_is_fine(v):
    # the *text* "\u0000" (escaped backslash), not a NUL character
    row = ok(v, b'{"timestamp":"2026-01-26T21:30:45.123Z","customer_id":"c","request_id":"r","note":"a\\\\u0000b"}')
    assert json.loads(row[COL["attributes"]]) == {"note": "a\\u0000b"}


# ----------------------------------------------------------------- content hash


def test_hash_independent_of_key_order_and_whitespace(v):
    a = orjson.dumps({**FULL, "extra": {"b": 1, "a": 2}})
    reordered = dict(reversed(list({**FULL, "extra": {"a": 2, "b": 1}}.items())))
    b = json.dumps(reordered, indent=2).encode()
    c = b"  " + json.dumps(reordered, separators=(" ,", " : ")).encode() + b"\r\n"
    hashes = {ok(v, x)[COL["content_hash"]] for x in (a, b, c)}
    assert len(hashes) == 1
    assert len(next(iter(hashes))) == 32 and all(ch in "0123456789abcdef" for ch in next(iter(hashes)))


def test_hash_differs_when_content_differs(v):
    h1 = ok(v, {**FULL})[COL["content_hash"]]
    h2 = ok(v, {**FULL, "tokens_consumed": 2501})[COL["content_hash"]]
    h3 = ok(v, {**FULL, "unknown": 1})[COL["content_hash"]]
    assert len({h1, h2, h3}) == 3


# --------------------------------------------------------- required-field errors


@pytest.mark.parametrize("field", ["timestamp", "customer_id", "request_id"])
@pytest.mark.parametrize("how", ["absent", "null"])
def test_missing_required_field(v, field, how):
    obj = dict(BASE)
    if how == "absent":
        del obj[field]
    else:
        obj[field] = None
    reason, detail = bad(v, obj)
    assert reason == "missing_field"
    assert field in detail


@pytest.mark.parametrize(
    "ts",
    [
        "2026-01-26T21:30:45.123",  # naive
        "2026-01-26",  # date only -> naive
        "yesterday",
        "",
        "2026-13-01T00:00:00Z",
        "2026-01-26T24:00:00Z",
        " 2026-01-26T21:30:45Z",
        1769463045,
        1769463045.123,
        True,
        ["2026-01-26T21:30:45Z"],
        "0001-01-01T00:00:00+01:00",  # not representable in UTC
    ],
)
def test_invalid_timestamp(v, ts):
    assert bad(v, {**BASE, "timestamp": ts})[0] == "invalid_timestamp"


def test_naive_detail_mentions_zone(v):
    reason, detail = bad(v, {**BASE, "timestamp": "2026-01-26T21:30:45"})
    assert reason == "invalid_timestamp" and "naive" in detail


@pytest.mark.parametrize(
    "cid", ["", " ", "org 1", "-org", "_org", ".org", "org/1", "orgé", "ｏｒｇ", "org\n", "a" * 129, 42, True, ["org"]]
)
def test_invalid_customer_id(v, cid):
    assert bad(v, {**BASE, "customer_id": cid})[0] == "invalid_customer_id"


@pytest.mark.parametrize("rid", ["", " ", "\t\n", "x" * 257, 12345, True, {"id": 1}])
def test_invalid_request_id(v, rid):
    assert bad(v, {**BASE, "request_id": rid})[0] == "invalid_request_id"


# --------------------------------------------------------- optional-field errors

STRING_FIELDS = list(contract.STRING_FIELDS)
INT_FIELDS = list(contract.INT_RANGES)
NUMBER_FIELDS = list(contract.NUMBER_FIELDS)


@pytest.mark.parametrize("field", STRING_FIELDS)
@pytest.mark.parametrize("value", [1, 1.5, True, False, [], {}, ["a"], {"a": "b"}])
def test_string_fields_wrong_type(v, field, value):
    reason, detail = bad(v, {**BASE, field: value})
    assert reason == "invalid_type"
    assert field in detail


@pytest.mark.parametrize("field", INT_FIELDS)
@pytest.mark.parametrize("value", ["200", True, False, 200.0, 2500.5, [200], {"v": 1}])
def test_int_fields_wrong_type(v, field, value):
    reason, detail = bad(v, {**BASE, field: value})
    assert reason == "invalid_type"
    assert field in detail


@pytest.mark.parametrize(
    "field, value",
    [
        ("status_code", 99),
        ("status_code", 600),
        ("status_code", 0),
        ("status_code", -200),
        ("tokens_consumed", -1),
        ("tokens_input", -1),
        ("tokens_output", -1),
        ("tokens_consumed", INT64_MAX + 1),
        ("tokens_input", 2**64 - 1),
    ],
)
def test_int_fields_out_of_range(v, field, value):
    reason, detail = bad(v, {**BASE, field: value})
    assert reason == "out_of_range"
    assert field in detail and str(value) in detail


@pytest.mark.parametrize("field", INT_FIELDS)
@pytest.mark.parametrize("literal", [b"123456789012345678901234567890", b"-123456789012345678901234567890", b"1e30"])
def test_int_fields_wider_than_64_bits_out_of_range(v, field, literal):
    raw = orjson.dumps(BASE)[:-1] + b',"' + field.encode() + b'":' + literal + b"}"
    reason, detail = bad(v, raw)
    assert reason == "out_of_range"
    assert field in detail


@pytest.mark.parametrize("field, value", [
    ("user_id", ""), ("user_id", "u" * 257), ("error_type", ""), ("error_type", "e" * 65),
])
def test_bounded_strings_out_of_their_lengths(v, field, value):
    reason, detail = bad(v, {**BASE, field: value})
    assert reason == "out_of_range"
    assert detail.startswith(f"{field} must be 1..{contract.STRING_LENGTHS[field][1]} characters, got {len(value)} ")


def test_bounded_string_lengths_count_characters_not_bytes(v):
    ok(v, {**BASE, "user_id": "\U0001f600" * 256})  # 1,024 bytes of UTF-8
    assert bad(v, {**BASE, "error_type": "é" * 65})[0] == "out_of_range"


@pytest.mark.parametrize("field", NUMBER_FIELDS)
@pytest.mark.parametrize("value", ["1.5", True, False, [1], {"ms": 1}])
def test_number_fields_wrong_type(v, field, value):
    reason, detail = bad(v, {**BASE, field: value})
    assert reason == "invalid_type"
    assert field in detail


@pytest.mark.parametrize("field", NUMBER_FIELDS)
@pytest.mark.parametrize("value", [-1, -0.001, -1e300])
def test_number_fields_negative(v, field, value):
    reason, detail = bad(v, {**BASE, field: value})
    assert reason == "out_of_range"
    assert field in detail


def test_bool_is_not_an_int(v):
    for field in ("status_code", "tokens_consumed", "tokens_input", "tokens_output", "duration_ms", "queue_wait_ms"):
        assert bad(v, {**BASE, field: True})[0] == "invalid_type", field


def test_detail_names_field_and_range(v):
    reason, detail = bad(v, {**BASE, "status_code": 700})
    assert (reason, detail) == ("out_of_range", "status_code=700 not in 100..599")


def _with_literal(name: str, literal: bytes) -> bytes:
    """BASE plus one field written as a raw JSON literal (what orjson.dumps cannot produce)."""
    return orjson.dumps(BASE)[:-1] + b',"' + name.encode() + b'":' + literal + b"}"


# One case per detail the explaining path can write: callers and the quarantine
# table show these strings, so they are pinned exactly.
EXACT_REJECTIONS = [
    ({"customer_id": "org_42"}, "missing_field", "required field(s) missing or null: timestamp, request_id"),
    ({**BASE, "timestamp": 1769463045}, "invalid_timestamp",
     "timestamp must be an ISO-8601 string, got integer 1769463045"),
    ({**BASE, "timestamp": "yesterday"}, "invalid_timestamp", 'timestamp "yesterday" is not ISO-8601'),
    ({**BASE, "timestamp": "2026-01-26T21:30:45"}, "invalid_timestamp",
     'timestamp "2026-01-26T21:30:45" has no zone offset (naive)'),
    ({**BASE, "timestamp": "0001-01-01T00:00:00+01:00"}, "invalid_timestamp",
     'timestamp "0001-01-01T00:00:00+01:00" is not representable in UTC'),
    ({**BASE, "customer_id": "-org"}, "invalid_customer_id",
     'customer_id "-org" does not match [A-Za-z0-9][A-Za-z0-9_.:-]{0,127}'),
    ({**BASE, "request_id": 12345}, "invalid_request_id", "request_id must be a string, got integer 12345"),
    ({**BASE, "request_id": " "}, "invalid_request_id",
     'request_id must be 1..256 characters and not blank, got 1 characters " "'),
    ({**BASE, "endpoint": ["a"]}, "invalid_type", 'endpoint must be a string, got array ["a"]'),
    # as the contract stands, a float beyond the BIGINT range is out_of_range even in a string field
    (_with_literal("endpoint", b"1e30"), "out_of_range", "endpoint=1e+30 exceeds the signed 64-bit integer range"),
    ({**BASE, "status_code": 700}, "out_of_range", "status_code=700 not in 100..599"),
    ({**BASE, "tokens_input": True}, "invalid_type", "tokens_input must be an integer, got boolean true"),
    ({**BASE, "tokens_consumed": 2500.0}, "invalid_type", "tokens_consumed must be an integer, got float 2500.0"),
    (_with_literal("tokens_output", b"123456789012345678901234567890"), "out_of_range",
     "tokens_output=1.2345678901234568e+29 exceeds the signed 64-bit integer range"),
    ({**BASE, "duration_ms": -0.5}, "out_of_range", "duration_ms=-0.5 must be >= 0"),
    ({**BASE, "queue_wait_ms": "12"}, "invalid_type", 'queue_wait_ms must be a number, got string "12"'),
    ({**BASE, "message": 1, "method": 2}, "invalid_type", "method must be a string, got integer 2"),  # column order
    ({**BASE, "user_id": ""}, "out_of_range", 'user_id must be 1..256 characters, got 0 ""'),
    ({**BASE, "error_type": "x" * 65}, "out_of_range",
     'error_type must be 1..64 characters, got 65 "' + "x" * 56 + '...'),
    ({**BASE, "user_id": 42}, "invalid_type", "user_id must be a string, got integer 42"),
    ({**BASE, "extra": {"deep": ["ok", "a\u0000b"]}}, "invalid_encoding",
     "extra.deep[1] contains U+0000 (\\u0000), which PostgreSQL cannot store"),
    ({**BASE, "k\u0000": 1}, "invalid_encoding", "k\\u0000 contains U+0000 (\\u0000), which PostgreSQL cannot store"),
    (_with_literal("x", b"[" * 300 + b"]" * 300), "invalid_json",
     "cannot canonicalise event: Recursion limit reached (nesting deeper than 254 levels?)"),
    ({**BASE, "timestamp": "2026-01-28T12:00:00.001Z"}, "timestamp_in_future",
     "timestamp 2026-01-28T12:00:00.001Z is after now+1 day, 0:00:00 (2026-01-28T12:00:00+00:00)"),
    ({**BASE, "timestamp": "2001-01-01T00:00:00+02:00"}, "timestamp_out_of_retention",
     "timestamp 2001-01-01T00:00:00+02:00 is before now-400d (2024-12-23T12:00:00+00:00)"),
]  # fmt: skip


@pytest.mark.parametrize("event, reason, detail", EXACT_REJECTIONS, ids=[case[1] for case in EXACT_REJECTIONS])
def test_explaining_path_reason_and_detail_are_exact(v, event, reason, detail):
    raw = event if isinstance(event, bytes) else orjson.dumps(event)
    assert v.validate(raw) == (None, reason, detail)


# ------------------------------------------------------------ raw-level errors


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"", "invalid_json"),
        (b"{", "invalid_json"),
        (b'{"timestamp": NaN}', "invalid_json"),
        (b'{"duration_ms": Infinity}', "invalid_json"),
        (b'{"duration_ms": -Infinity}', "invalid_json"),
        (b'{"duration_ms": 1e400}', "invalid_json"),
        (b"{} {}", "invalid_json"),
        (b"\xef\xbb\xbf{}", "invalid_json"),
        (b"[]", "not_an_object"),
        (b'"x"', "not_an_object"),
        (b"1", "not_an_object"),
        (b"null", "not_an_object"),
        (b"false", "not_an_object"),
        (b'{"timestamp":"\xff"}', "invalid_encoding"),
        (b'{"x":"\xc3"}', "invalid_encoding"),
        (b'{"x":"\\ud800"}', "invalid_encoding"),
    ],
)
def test_raw_level_errors(v, raw, reason):
    assert bad(v, raw)[0] == reason


@pytest.mark.parametrize("field", ["message", "request_id", "unknown_field", "nested"])
def test_nul_character_rejected(v, field):
    value = {"deep": ["ok", "a\u0000b"]} if field == "nested" else "a\u0000b"
    reason, detail = bad(v, {**BASE, field: value})
    assert reason == "invalid_encoding"
    assert field in detail


def test_nul_in_key_rejected(v):
    assert bad(v, {**BASE, "k\u0000": 1})[0] == "invalid_encoding"


@pytest.mark.parametrize("depth", [300, 1000])
def test_deep_nesting_is_rejected_not_raised(v, depth):
    raw = orjson.dumps(BASE)[:-1] + b',"x":' + b"[" * depth + b"]" * depth + b"}"
    assert bad(v, raw)[0] == "invalid_json"


def test_non_bytes_inputs(v):
    assert v.validate(bytearray(orjson.dumps(BASE)))[1] is None
    assert v.validate(memoryview(orjson.dumps(BASE)))[1] is None
    assert v.validate(orjson.dumps(BASE).decode())[1] is None
    assert v.validate("\ud800")[1] == "invalid_encoding"
    assert v.validate(12)[1] == "invalid_json"  # type: ignore[arg-type]


# --------------------------------------------------------------- time window


def _at(v: EventValidator, t: datetime) -> tuple:
    return v.validate(orjson.dumps({**BASE, "timestamp": t.isoformat()}))


def test_future_boundary():
    v = EventValidator(NOW)
    assert _at(v, NOW + timedelta(days=1))[1] is None
    assert _at(v, NOW + timedelta(days=1, milliseconds=1))[1] == "timestamp_in_future"
    # sub-millisecond excess is truncated away before the check
    assert _at(v, NOW + timedelta(days=1, microseconds=999))[1] is None


def test_retention_boundary():
    v = EventValidator(NOW)
    assert _at(v, NOW - timedelta(days=400))[1] is None
    assert _at(v, NOW - timedelta(days=400, milliseconds=1))[1] == "timestamp_out_of_retention"


def test_custom_window_and_non_utc_now():
    now = datetime(2026, 1, 27, 14, 0, tzinfo=timezone(timedelta(hours=2)))  # == NOW
    v = EventValidator(now, retention_days=7, future_tolerance=timedelta(minutes=5))
    assert v.now == NOW
    assert _at(v, NOW + timedelta(minutes=5))[1] is None
    assert _at(v, NOW + timedelta(minutes=5, milliseconds=1))[1] == "timestamp_in_future"
    assert _at(v, NOW - timedelta(days=7))[1] is None
    assert _at(v, NOW - timedelta(days=7, seconds=1))[1] == "timestamp_out_of_retention"


def test_offset_timestamp_window_uses_utc_instant():
    v = EventValidator(NOW)
    limit = (NOW + timedelta(days=1)).astimezone(timezone(timedelta(hours=-8)))
    assert _at(v, limit)[1] is None
    assert _at(v, limit + timedelta(milliseconds=1))[1] == "timestamp_in_future"


def test_structural_errors_take_precedence_over_window(v):
    assert bad(v, {**BASE, "timestamp": "2001-01-01T00:00:00Z", "status_code": 9})[0] == "out_of_range"
    assert bad(v, {**BASE, "timestamp": "2001-01-01T00:00:00Z"})[0] == "timestamp_out_of_retention"


def test_validate_event_wrapper():
    assert validate_event(orjson.dumps(BASE), now=NOW)[1] is None
    assert validate_event(orjson.dumps(BASE), now=NOW, retention_days=0)[1] == "timestamp_out_of_retention"
    assert validate_event(orjson.dumps({**BASE, "timestamp": "2001-01-01T00:00:00Z"}))[1] == (
        "timestamp_out_of_retention"
    )


# ----------------------------------------------------------------- JSON schema


def test_schema_matches_validator():
    path = Path(contract.__file__).with_name("event_contract.schema.json")
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is True
    assert schema["required"] == list(contract.REQUIRED_FIELDS)
    props = schema["properties"]
    assert set(props) == set(contract.KNOWN_FIELDS)
    assert props["customer_id"]["pattern"] == f"^{contract.CUSTOMER_ID_PATTERN}$"
    assert props["request_id"]["maxLength"] == contract.MAX_REQUEST_ID_CHARS
    for name in contract.STRING_FIELDS:
        assert props[name]["type"] == ["string", "null"], name
    for name, (lo, hi) in contract.INT_RANGES.items():
        assert props[name]["type"] == ["integer", "null"], name
        assert (props[name]["minimum"], props[name]["maximum"]) == (lo, hi), name
    for name in contract.NUMBER_FIELDS:
        assert props[name]["type"] == ["number", "null"] and props[name]["minimum"] == 0, name
    for name, (lo, hi) in contract.STRING_LENGTHS.items():
        assert (props[name]["minLength"], props[name]["maxLength"]) == (lo, hi), name
    for name in contract.REQUIRED_FIELDS:
        assert props[name]["type"] == "string"


# ------------------------------------------------------------------- properties

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
TIMESTAMPS = [
    "2026-01-26T21:30:45.123Z",
    "2026-01-26T21:30:45.123456+05:45",
    "2026-01-26T21:30:45",
    "2030-01-01T00:00:00Z",
    "2000-01-01T00:00:00Z",
    "nope",
]
field_values = {
    "timestamp": st.sampled_from(TIMESTAMPS) | json_scalars,
    "customer_id": (
        st.sampled_from(["org_1", "", "-x", "a" * 129])
        | st.from_regex(contract.CUSTOMER_ID_PATTERN, fullmatch=True)
        | json_scalars
    ),
    "request_id": st.sampled_from(["r", " ", "r" * 257]) | json_scalars,
}
for _name in contract.OPTIONAL_FIELDS:
    field_values[_name] = json_scalars
optional_values = {name: field_values[name] for name in contract.OPTIONAL_FIELDS}
events = st.fixed_dictionaries(
    {},
    optional={**field_values, "extra": json_values, "other": json_values},
) | st.fixed_dictionaries(  # mostly-valid events, so the accepting branch is exercised too
    {
        "timestamp": st.sampled_from(["2026-01-26T21:30:45.123Z", "2026-01-26T21:30:45.123456-03:00"]),
        "customer_id": st.from_regex(contract.CUSTOMER_ID_PATTERN, fullmatch=True),
        "request_id": st.text(min_size=1, max_size=20),
    },
    optional={**optional_values, "extra": json_values},
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(events)
def test_fast_path_agrees_with_explaining_slow_path(obj):
    v = EventValidator(NOW)
    raw = json.dumps(obj).encode()  # stdlib: also writes integers wider than 64 bits
    fast = v.validate(raw)
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:  # e.g. a lone surrogate escape
        assert fast[1] in ("invalid_encoding", "invalid_json")
        return
    slow = v._validate_slow(parsed, raw)
    assert fast == slow
    row, reason, detail = fast
    assert (row is None) == (reason is not None)
    if reason is not None:
        assert reason in QUARANTINE_REASONS and detail


REALISTIC = {  # the shape of a generator line
    "timestamp": "2026-01-26T21:30:45.123Z",
    "level": "info",
    "customer_id": "9b2f6c1e-4a43-5d7e-8f10-2c3b4a5d6e7f",
    "request_id": "req_3f9a0c4b8d2e1f7a6b5c4d3e",
    "endpoint": "/api/v1/agents/runs",
    "method": "POST",
    "status_code": 200,
    "duration_ms": 812,
    "tokens_consumed": 5120,
    "tokens_input": 4400,
    "tokens_output": 720,
    "model_id": "0d1e2f3a-4b5c-5d6e-8f70-8192a3b4c5d6",
    "message": "Agent run completed",
    "event_type": "agent.run",
    "agent_type": "coding",
    "tool_name": "sql_query",
    "queue_wait_ms": 37,
    "session_id": "sess_0123456789abcdef",
    "user_id": "usr_3f9a0c4b8d2e",
}
EDGE_VALUES = [
    None, True, False, 0, -1, 99, 100, 599, 600, INT64_MAX, INT64_MAX + 1, 2**64, -(2**63), 0.0, -0.0, -0.001,
    2500.0, 2.0**63, 1e300, "", " ", "x" * 64, "x" * 65, "x" * 256, "x" * 257, "a\u0000b", "\\u0000", "-org",
    "2026-01-26T21:30:45",
    "2026-01-26T21:30:45.999999-12:00", "2026-01-28T12:00:00.001Z", "2001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+01:00", [], {}, {"a": [1, {"b": None}]},
]  # fmt: skip
mutations = st.lists(
    st.tuples(
        st.sampled_from([*contract.KNOWN_FIELDS, "extra", "region"]),
        st.none() | st.sampled_from(EDGE_VALUES) | json_values,  # None here: delete the field
        st.booleans(),  # True: an explicit JSON null instead of deleting
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([REALISTIC, FULL, BASE]), mutations, st.booleans())
def test_fast_path_agrees_with_explaining_path_on_mutated_events(event, changes, ascii_escapes):
    obj = dict(event)
    for field, value, explicit_null in changes:
        if value is None and not explicit_null:
            obj.pop(field, None)
        else:
            obj[field] = value
    try:  # stdlib json escapes non-ASCII and writes integers wider than 64 bits; orjson writes UTF-8
        raw = json.dumps(obj).encode() if ascii_escapes else orjson.dumps(obj)
    except TypeError:
        raw = json.dumps(obj).encode()
    v = EventValidator(NOW)
    fast = v.validate(raw)
    slow = v._validate_slow(orjson.loads(raw), raw)
    assert repr(fast) == repr(slow)  # repr: 12 and 12.0 compare equal, the stored types must not differ


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_validate_never_raises_on_arbitrary_bytes(raw):
    row, reason, _ = EventValidator(NOW).validate(raw)
    assert row is None and reason in {"invalid_json", "invalid_encoding", "not_an_object", "missing_field"}


def test_hash_equal_across_container_formats(v):
    from analytics_pipeline.ingestion.formats import read_log_lines

    compact = orjson.dumps(FULL)
    spaced = json.dumps(dict(reversed(list(FULL.items()))), indent=1).replace("\n", " ").encode()
    objects = [
        compact + b"\n",
        b"2026-01-26T21:30:45.123Z " + spaced + b"\r\n",
        orjson.dumps({"messageType": "DATA_MESSAGE", "logEvents": [{"id": "1", "message": spaced.decode()}]}),
    ]
    hashes = set()
    for data in objects:
        (line,) = list(read_log_lines([data]))
        hashes.add(ok(v, line[1])[COL["content_hash"]])
    assert len(hashes) == 1
