"""The usage-event contract: validation of one raw event line into a table row.

Pure Python (no Dagster). The loader feeds every line produced by
:func:`analytics_pipeline.ingestion.formats.read_log_lines` to
:meth:`EventValidator.validate` and COPYs the returned rows (in
:data:`EVENT_COLUMNS` order) into PostgreSQL; every rejection comes back as a
``(None, reason, detail)`` triple whose ``reason`` is a key of
:data:`QUARANTINE_REASONS`.  ``validate`` never raises for bad input.

The contract (also published as ``event_contract.schema.json``); its fields are declared
once, in :data:`EVENT_FIELDS`, from which the column lists, both validation paths and the
loader's staging table are built:

* Required: ``timestamp`` (ISO-8601 string with a zone offset or ``Z``:
  whatever Python 3.11's ``datetime.fromisoformat`` accepts, provided it
  carries an offset), ``customer_id``
  (``[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}``, ASCII only), ``request_id``
  (1..256 characters, not whitespace-only; the idempotency key together
  with ``customer_id``).  A required field that is absent or JSON ``null`` is
  ``missing_field``.  Any other problem with a required field (including the
  wrong JSON type) is reported with that field's own reason
  (``invalid_timestamp`` / ``invalid_customer_id`` / ``invalid_request_id``).
* Optional, typed and range-checked (JSON ``null`` == absent):
  strings ``endpoint method model_id event_type agent_type tool_name
  session_id level message``; bounded strings ``user_id`` (the tenant's end
  user, 1..256 characters) and ``error_type`` (1..64 characters), whose length
  outside those bounds is ``out_of_range``; integers ``status_code``
  (100..599) and ``tokens_consumed tokens_input tokens_output``
  (0..2**63-1); numbers ``duration_ms queue_wait_ms`` (>= 0, stored as float
  milliseconds).
* ``error_type`` is stored whatever the status: one on a successful request
  is not a contract violation (the metrics count errors by type only for
  status >= 400 and report the rest as a data-quality figure), so no billable
  event is lost over a label.
* Integer fields take JSON integers only: ``true``/``false`` and floats, even
  integral ones such as ``2500.0``, are ``invalid_type`` (billing wants exact
  integers).  A float-typed value whose magnitude is >= 2**63 is
  ``out_of_range`` instead: that is what orjson produces for integer literals
  wider than 64 bits (e.g. ``123456789012345678901234567890``), and such a
  value cannot be stored in a BIGINT whatever its spelling.
* ``NaN``/``Infinity`` literals, numbers that overflow a double (``1e400``)
  and nesting deeper than 254 levels are ``invalid_json``.  Bytes that are not
  UTF-8 (or a lone-surrogate ``\\ud800`` escape, or ``\\u0000`` anywhere,
  which PostgreSQL text/jsonb cannot store) are ``invalid_encoding``.
* Unknown top-level fields are kept: ``attributes`` is the JSON text
  (``orjson.dumps(..., OPT_SORT_KEYS)``) of an object holding exactly the
  unknown keys, or ``None`` when there are none.
* Duplicate keys inside one JSON object: the last occurrence wins (orjson
  semantics); the content hash is computed on that parsed object.
* ``event_time`` is the timestamp converted to UTC and truncated (not
  rounded) to millisecond precision.  The time window is checked on that
  value, after all structural checks: ``event_time > now + future_tolerance``
  is ``timestamp_in_future``; ``event_time < now - retention_days`` is
  ``timestamp_out_of_retention``; both boundaries themselves are accepted.
* Checks run in this order and the first failure is reported: JSON /
  encoding, object, missing required fields, timestamp, customer_id,
  request_id, optional fields in EVENT_COLUMNS order, U+0000, nesting depth,
  time window.
* ``content_hash`` is the 32-hex-char MD5 of
  ``orjson.dumps(parsed_event, option=OPT_SORT_KEYS)`` (keys sorted at every
  level), so the same event hashes equal regardless of key order, whitespace
  or container format (JSON lines / CloudWatch export / Firehose).  It is
  *not* a semantic normal form: ``1`` vs ``1.0``, ``"Z"`` vs ``"+00:00"`` or
  an explicit ``null`` vs an absent key hash differently.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

__all__ = [
    "EVENT_COLUMNS",
    "EVENT_COLUMN_TYPES",
    "EVENT_FIELDS",
    "EventField",
    "EventValidator",
    "INT64_MAX",
    "KNOWN_FIELDS",
    "OPTIONAL_FIELDS",
    "QUARANTINE_REASONS",
    "REQUIRED_FIELDS",
    "STRING_LENGTHS",
    "validate_event",
]

UTC = timezone.utc
INT64_MAX = 2**63 - 1

QUARANTINE_REASONS: dict[str, str] = {
    # container / framing level (produced by formats.read_log_lines)
    "line_too_large": "The line is longer than MAX_LINE_BYTES (1 MiB); only its first 4 KiB are kept.",
    "invalid_envelope": (
        "A container record is malformed: a Firehose/CloudWatch subscription envelope that is not valid "
        "JSON, has a missing/invalid logEvents list or an unknown messageType, a log event without a "
        "string message, or a CloudWatch export line without its '<timestamp> ' prefix."
    ),
    "truncated_object": "The incomplete trailing fragment of a truncated or corrupt (gzip) object.",
    # event level (produced by contract.EventValidator)
    "invalid_encoding": (
        "The line is not valid UTF-8, or contains a lone surrogate escape or U+0000 (\\u0000), which "
        "PostgreSQL text/jsonb cannot store."
    ),
    "invalid_json": (
        "The line is not parseable JSON (syntax error, NaN/Infinity literal, number overflowing a double, "
        "nesting deeper than 254 levels)."
    ),
    "not_an_object": "The line is valid JSON but not a JSON object (array, string, number, boolean, null).",
    "missing_field": "A required field (timestamp, customer_id, request_id) is absent or null.",
    "invalid_timestamp": (
        "timestamp is not an ISO-8601 string with a zone offset or 'Z' (naive timestamps, garbage, "
        "non-strings and values not representable in UTC are rejected)."
    ),
    "timestamp_in_future": "timestamp is more than future_tolerance (default 1 day) ahead of the validator's now.",
    "timestamp_out_of_retention": "timestamp is older than now - retention_days (default 400 days).",
    "invalid_customer_id": "customer_id is not a string matching [A-Za-z0-9][A-Za-z0-9_.:-]{0,127}.",
    "invalid_request_id": "request_id is not a non-empty, non-blank string of at most 256 characters.",
    "invalid_type": (
        "An optional field has the wrong JSON type (e.g. a string or boolean where an integer is "
        "required, or a float such as 2500.0 for an integer field)."
    ),
    "out_of_range": (
        "A numeric field is outside its range (status_code 100..599, tokens_* 0..2**63-1, "
        "duration_ms/queue_wait_ms >= 0; integers wider than 64 bits), or a bounded string is too short or "
        "too long (user_id 1..256 characters, error_type 1..64)."
    ),
    # loader level
    "conflicting_duplicate": (
        "Another event with the same (customer_id, request_id) but a different content_hash was already "
        "accepted; the later one is quarantined."
    ),
}

STRING, INTEGER, NUMBER = "string", "integer", "number"


@dataclass(frozen=True)
class EventField:
    """One field of the event, declared once: its JSON name and kind, the bounds of a valid
    value, the column it is stored in and that column's PostgreSQL type.

    ``bounds`` is ``(lo, hi)``: the range of an integer, the lower bound of a number (``hi`` is
    ``None``), or a string's length in characters; ``None`` for no bounds. Required fields have
    their own rules on top (the timestamp's format, the customer id's pattern, a request id not
    blank), with their own quarantine reasons.
    """

    name: str
    kind: str
    pg_type: str
    optional: bool = True
    bounds: tuple[int, int | None] | None = None
    column: str = ""

    def __post_init__(self) -> None:
        if not self.column:
            object.__setattr__(self, "column", self.name)


#: The event's fields, in the order of their columns in analytics_events (and of a validated row).
EVENT_FIELDS: tuple[EventField, ...] = (
    EventField("timestamp", STRING, "timestamp with time zone", optional=False, column="event_time"),
    EventField("customer_id", STRING, "text", optional=False, column="organization_id"),
    EventField("request_id", STRING, "text", optional=False, bounds=(1, 256)),
    EventField("endpoint", STRING, "text"),
    EventField("method", STRING, "text"),
    EventField("status_code", INTEGER, "smallint", bounds=(100, 599)),
    EventField("duration_ms", NUMBER, "double precision", bounds=(0, None)),
    EventField("tokens_consumed", INTEGER, "bigint", bounds=(0, INT64_MAX)),
    EventField("tokens_input", INTEGER, "bigint", bounds=(0, INT64_MAX)),
    EventField("tokens_output", INTEGER, "bigint", bounds=(0, INT64_MAX)),
    EventField("model_id", STRING, "text"),
    EventField("event_type", STRING, "text"),
    EventField("agent_type", STRING, "text"),
    EventField("tool_name", STRING, "text"),
    EventField("queue_wait_ms", NUMBER, "double precision", bounds=(0, None)),
    EventField("session_id", STRING, "text"),
    EventField("level", STRING, "text"),
    EventField("message", STRING, "text"),
    # the tenant's end user (a distinct-count key for the metrics) and a short failure label
    EventField("user_id", STRING, "text", bounds=(1, 256)),
    EventField("error_type", STRING, "text", bounds=(1, 64)),
)
#: Columns a validated row carries after the fields: the unknown keys (JSON text, stored as
#: jsonb) and the content hash.
DERIVED_COLUMNS: tuple[tuple[str, str], ...] = (("attributes", "jsonb"), ("content_hash", "text"))

#: Each column of a validated row (analytics_events' columns but object_id) -> its PostgreSQL type.
EVENT_COLUMN_TYPES: dict[str, str] = {**{f.column: f.pg_type for f in EVENT_FIELDS}, **dict(DERIVED_COLUMNS)}
EVENT_COLUMNS: tuple[str, ...] = tuple(EVENT_COLUMN_TYPES)
REQUIRED_FIELDS: tuple[str, ...] = tuple(f.name for f in EVENT_FIELDS if not f.optional)
OPTIONAL_FIELDS: tuple[str, ...] = tuple(f.name for f in EVENT_FIELDS if f.optional)
_OPTIONAL = tuple(f for f in EVENT_FIELDS if f.optional)
STRING_FIELDS: tuple[str, ...] = tuple(f.name for f in _OPTIONAL if f.kind == STRING)
#: Optional string fields whose length (in characters) is bounded: outside the bounds is out_of_range.
STRING_LENGTHS: dict[str, tuple[int, int]] = {f.name: f.bounds for f in _OPTIONAL if f.kind == STRING and f.bounds}
INT_RANGES: dict[str, tuple[int, int]] = {f.name: f.bounds for f in _OPTIONAL if f.kind == INTEGER}
NUMBER_FIELDS: tuple[str, ...] = tuple(f.name for f in _OPTIONAL if f.kind == NUMBER)
KNOWN_FIELDS: frozenset[str] = frozenset(REQUIRED_FIELDS + OPTIONAL_FIELDS)
_KNOWN_FIELDS_SUPERSET = KNOWN_FIELDS.issuperset

CUSTOMER_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}"
MAX_REQUEST_ID_CHARS = EVENT_FIELDS[REQUIRED_FIELDS.index("request_id")].bounds[1]

_CUSTOMER_ID_FULLMATCH = re.compile(CUSTOMER_ID_PATTERN, re.ASCII).fullmatch
_loads = orjson.loads
_dumps = orjson.dumps
_SORT = orjson.OPT_SORT_KEYS
_JSONDecodeError = orjson.JSONDecodeError
_fromisoformat = datetime.fromisoformat
try:  # the builtin implementation has less per-call overhead than OpenSSL's for short inputs
    from _md5 import md5 as _md5
except ImportError:  # pragma: no cover
    _md5 = hashlib.md5
_SUB_MICROS = tuple(timedelta(microseconds=i) for i in range(1000))
_NUL_ESCAPE = b"\\u0000"
_FLOAT_INT_LIMIT = float(2**63)
_DETAIL_MAX = 200


def _preview(value: Any) -> str:
    """Short, safe rendering of a bad value for a detail message."""
    try:
        text = _dumps(value).decode()
    except TypeError:  # too deeply nested
        text = f"<deeply nested {_json_kind(value)}>"
    if len(text) > 60:
        text = text[:57] + "..."
    return text


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    t = type(value)
    if t is bool:
        return "boolean"
    if t is int:
        return "integer"
    if t is float:
        return "float"
    if t is str:
        return "string"
    if t is list:
        return "array"
    if t is dict:
        return "object"
    return t.__name__


def _type_error(field: str, value: Any, expected: str) -> tuple[None, str, str]:
    if type(value) is float and value == value and abs(value) >= _FLOAT_INT_LIMIT and expected != "string":
        return None, "out_of_range", f"{field}={_preview(value)} exceeds the signed 64-bit integer range"
    return None, "invalid_type", f"{field} must be {expected}, got {_json_kind(value)} {_preview(value)}"


def _int_error(field: str, value: Any) -> tuple[None, str, str]:
    lo, hi = INT_RANGES[field]
    if type(value) is int:
        return None, "out_of_range", f"{field}={value} not in {lo}..{hi}"
    return _type_error(field, value, "an integer")


def _length_error(field: str, value: str) -> tuple[None, str, str]:
    lo, hi = STRING_LENGTHS[field]
    return None, "out_of_range", f"{field} must be {lo}..{hi} characters, got {len(value)} {_preview(value)}"


def _number_error(field: str, value: Any) -> tuple[None, str, str]:
    if type(value) is int or type(value) is float:
        return None, "out_of_range", f"{field}={_preview(value)} must be >= 0"
    return _type_error(field, value, "a number")


def _coerce_bytes(raw: Any) -> Any:
    """bytes for bytes-like/str input, else a rejection triple."""
    if isinstance(raw, (bytearray, memoryview)):
        return bytes(raw)
    if isinstance(raw, str):
        try:
            return raw.encode("utf-8")
        except UnicodeEncodeError as e:
            return None, "invalid_encoding", f"string contains an unencodable character at {e.start}: {e.reason}"
    return None, "invalid_json", f"expected bytes, got {type(raw).__name__}"


def _json_error(raw: bytes, exc: Exception) -> tuple[None, str, str]:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, "invalid_encoding", f"not valid UTF-8 at byte {e.start}: {e.reason}"
    msg = str(exc)
    if "surrogate" in msg:
        return None, "invalid_encoding", f"lone UTF-16 surrogate escape: {msg}"[:_DETAIL_MAX]
    if not msg:
        msg = "empty line"
    return None, "invalid_json", msg[:_DETAIL_MAX]


def _find_nul(value: Any) -> str | None:
    """Path of the first key/string containing U+0000, or None (iterative: nesting may be deep)."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        v, path = stack.pop()
        t = type(v)
        if t is str:
            if "\x00" in v:
                return path or "<value>"
        elif t is dict:
            for k, sub in v.items():
                sub_path = f"{path}.{k}" if path else k
                if "\x00" in k:
                    return sub_path.replace("\x00", "\\u0000")
                stack.append((sub, sub_path))
        elif t is list:
            stack.extend((sub, f"{path}[{i}]") for i, sub in enumerate(v))
    return None


_REQUEST_ID_MIN, _REQUEST_ID_MAX = EVENT_FIELDS[REQUIRED_FIELDS.index("request_id")].bounds


def _canonical(obj: dict) -> tuple[str | None, str]:
    """The ``attributes`` JSON text (the unknown keys, or None) and the content hash of an event;
    TypeError for nesting deeper than orjson.dumps supports."""
    canonical = _dumps(obj, option=_SORT)
    if _KNOWN_FIELDS_SUPERSET(obj):
        attributes = None
    else:
        attributes = _dumps({k: v for k, v in obj.items() if k not in KNOWN_FIELDS}, option=_SORT).decode()
    return attributes, _md5(canonical).hexdigest()


def _clean_row_source(fields: tuple[EventField, ...]) -> str:
    """Python source of the fast path's row builder, spelled out from the table as a hand-written
    one would be (a loop over the table costs a fifth of a clean event's validation):
    ``clean_row(obj, event_time, organization_id, request_id)`` returns the row of an event whose
    required fields are already checked, or None when an optional field is of the wrong type or
    out of bounds (JSON null == absent) or the event cannot be canonicalised."""
    body, names = ["    get = obj.get"], []
    for index, field in enumerate(fields):
        value = f"v{index}"
        names.append(value)
        body.append(f"    {value} = get({field.name!r})")
        if field.kind == NUMBER:  # an int or a float (bool is neither), stored as float
            body += [f"    if {value} is not None:",
                     f"        if type({value}) is int:",
                     f"            {value} = float({value})",
                     f"        if type({value}) is not float or {value} < {field.bounds[0]}:",
                     "            return None"]
            continue
        python_type = "str" if field.kind == STRING else "int"
        measure = f"len({value})" if field.kind == STRING else value
        bounded = "" if field.bounds is None else f" or not {field.bounds[0]} <= {measure} <= {field.bounds[1]}"
        body += [f"    if {value} is not None and (type({value}) is not {python_type}{bounded}):",
                 "        return None"]
    body += ["    try:",
             "        attributes, content_hash = canonical(obj)",
             "    except TypeError:  # nesting deeper than orjson.dumps supports",
             "        return None",
             f"    return (event_time, organization_id, request_id, {', '.join(names)}, attributes, content_hash)"]
    return "\n".join(["def clean_row(obj, event_time, organization_id, request_id):", *body, ""])


def _compile_clean_row(fields: tuple[EventField, ...]) -> Callable[[dict, datetime, str, str], tuple | None]:
    namespace: dict[str, Any] = {"canonical": _canonical}
    exec(compile(_clean_row_source(fields), "<contract: clean_row>", "exec"), namespace)  # noqa: S102
    return namespace["clean_row"]


_clean_row = _compile_clean_row(_OPTIONAL)


def _optional_field_error(field: EventField, value: Any) -> tuple[None, str, str] | None:
    """The rejection of a present optional field's value by its kind and bounds, or None."""
    if field.kind == STRING:
        if type(value) is not str:
            return _type_error(field.name, value, "a string")
        if field.bounds is not None and not field.bounds[0] <= len(value) <= field.bounds[1]:
            return _length_error(field.name, value)
    elif field.kind == INTEGER:
        lo, hi = field.bounds
        if type(value) is not int or not lo <= value <= hi:
            return _int_error(field.name, value)
    elif (type(value) is not float and type(value) is not int) or not value >= field.bounds[0]:
        return _number_error(field.name, value)
    return None


def _event_time(ts: Any) -> Any:
    """The UTC event time of a timestamp, truncated to ms, or the rejection triple."""
    if type(ts) is not str:
        return None, "invalid_timestamp", f"timestamp must be an ISO-8601 string, got {_json_kind(ts)} {_preview(ts)}"
    try:
        dt = _fromisoformat(ts)
    except ValueError:
        return None, "invalid_timestamp", f"timestamp {_preview(ts)} is not ISO-8601"
    tz = dt.tzinfo
    if tz is not UTC:
        if tz is None:
            return None, "invalid_timestamp", f"timestamp {_preview(ts)} has no zone offset (naive)"
        try:
            dt = dt.astimezone(UTC)
        except OverflowError:
            return None, "invalid_timestamp", f"timestamp {_preview(ts)} is not representable in UTC"
    us = dt.microsecond % 1000
    if us:
        dt -= _SUB_MICROS[us]  # truncate to ms; much cheaper than dt.replace()
    return dt


def _identity_error(cid: Any, rid: Any) -> tuple[None, str, str] | None:
    """The rejection of a bad customer_id or request_id (in that order), or None."""
    if type(cid) is not str or _CUSTOMER_ID_FULLMATCH(cid) is None:
        return None, "invalid_customer_id", f"customer_id {_preview(cid)} does not match {CUSTOMER_ID_PATTERN}"
    if type(rid) is not str:
        return None, "invalid_request_id", f"request_id must be a string, got {_json_kind(rid)} {_preview(rid)}"
    if not rid or len(rid) > MAX_REQUEST_ID_CHARS or rid.isspace():
        return (
            None,
            "invalid_request_id",
            (
                f"request_id must be 1..{MAX_REQUEST_ID_CHARS} characters and not blank, "
                f"got {len(rid)} characters {_preview(rid)}"
            ),
        )
    return None


class EventValidator:
    """Validates raw event lines against the contract for one ingestion run.

    ``now`` must be timezone-aware; it fixes the accepted time window
    ``[now - retention_days, now + future_tolerance]`` (inclusive).
    Create one validator per run/object and reuse it for every line.
    """

    __slots__ = ("now", "retention_days", "future_tolerance", "min_time", "max_time")

    def __init__(
        self,
        now: datetime,
        retention_days: int = 400,
        future_tolerance: timedelta = timedelta(days=1),
    ) -> None:
        if not isinstance(now, datetime) or now.utcoffset() is None:
            raise ValueError("EventValidator(now=...) must be a timezone-aware datetime")
        if retention_days < 0:
            raise ValueError("retention_days must be >= 0")
        self.now = now.astimezone(UTC)
        self.retention_days = retention_days
        self.future_tolerance = future_tolerance
        self.min_time = self.now - timedelta(days=retention_days)
        self.max_time = self.now + future_tolerance

    def validate(self, raw: bytes) -> tuple[tuple | None, str | None, str | None]:
        """Validate one raw event line (bytes, one JSON object).

        Returns ``(row, None, None)`` with ``row`` in :data:`EVENT_COLUMNS`
        order, or ``(None, reason, detail)`` with ``reason`` a key of
        :data:`QUARANTINE_REASONS`.  Never raises for bad input.
        """
        if type(raw) is not bytes:
            raw = _coerce_bytes(raw)
            if type(raw) is tuple:
                return raw
        try:
            obj = _loads(raw)
        except _JSONDecodeError as e:
            return _json_error(raw, e)
        if type(obj) is not dict:
            return None, "not_an_object", f"top-level JSON value is {_json_kind(obj)}, expected an object"
        # The fast path builds the row of a clean event or defers to the explaining path, which
        # re-checks everything in documented order (the fast-vs-explaining property tests keep
        # the two in step).
        get = obj.get
        cid = get("customer_id")
        rid = get("request_id")
        try:
            dt = _fromisoformat(get("timestamp"))  # TypeError for non-strings
            if _CUSTOMER_ID_FULLMATCH(cid) is None:  # TypeError for non-strings
                return self._validate_slow(obj, raw)
            tz = dt.tzinfo
            if tz is not UTC:
                if tz is None:  # naive
                    return self._validate_slow(obj, raw)
                dt = dt.astimezone(UTC)
        except (TypeError, ValueError, OverflowError):
            return self._validate_slow(obj, raw)
        if type(rid) is not str or not _REQUEST_ID_MIN <= len(rid) <= _REQUEST_ID_MAX or rid.isspace():
            return self._validate_slow(obj, raw)
        if 92 in raw and _NUL_ESCAPE in raw:  # 92 == ord("\\"): memchr prefilter, ~10x cheaper
            return self._validate_slow(obj, raw)
        us = dt.microsecond % 1000
        if us:
            dt -= _SUB_MICROS[us]
        if dt > self.max_time or dt < self.min_time:
            return self._validate_slow(obj, raw)
        row = _clean_row(obj, dt, cid, rid)
        if row is None:
            return self._validate_slow(obj, raw)
        return row, None, None

    def _validate_slow(self, obj: dict, raw: bytes) -> tuple[tuple | None, str | None, str | None]:
        """Full, explaining validation of a parsed object (checks in documented order)."""
        get = obj.get
        ts = get("timestamp")
        cid = get("customer_id")
        rid = get("request_id")
        if ts is None or cid is None or rid is None:
            missing = [field for field in REQUIRED_FIELDS if get(field) is None]
            return None, "missing_field", "required field(s) missing or null: " + ", ".join(missing)
        dt = _event_time(ts)
        if type(dt) is tuple:
            return dt
        rejected = _identity_error(cid, rid)
        if rejected is not None:
            return rejected

        row: list[Any] = [dt, cid, rid]
        for field in _OPTIONAL:  # in column order
            value = get(field.name)
            if value is not None:  # JSON null == absent
                rejected = _optional_field_error(field, value)
                if rejected is not None:
                    return rejected
                if field.kind == NUMBER:
                    value = float(value)
            row.append(value)

        # PostgreSQL cannot store U+0000 in text/jsonb
        if _NUL_ESCAPE in raw:
            where = _find_nul(obj)
            if where is not None:
                return None, "invalid_encoding", f"{where} contains U+0000 (\\u0000), which PostgreSQL cannot store"

        try:
            attributes, content_hash = _canonical(obj)
        except TypeError as e:  # orjson: recursion limit (nesting > 254)
            return None, "invalid_json", f"cannot canonicalise event: {e} (nesting deeper than 254 levels?)"

        # the time window last: the event is otherwise well-formed
        if dt > self.max_time:
            return (
                None,
                "timestamp_in_future",
                f"timestamp {ts} is after now+{self.future_tolerance} ({self.max_time.isoformat()})",
            )
        if dt < self.min_time:
            return (
                None,
                "timestamp_out_of_retention",
                f"timestamp {ts} is before now-{self.retention_days}d ({self.min_time.isoformat()})",
            )
        row.append(attributes)
        row.append(content_hash)
        return tuple(row), None, None


@functools.lru_cache(maxsize=8)
def _cached_validator(now: datetime, retention_days: int, future_tolerance: timedelta) -> EventValidator:
    return EventValidator(now, retention_days, future_tolerance)


def validate_event(
    raw: bytes,
    *,
    now: datetime | None = None,
    retention_days: int = 400,
    future_tolerance: timedelta = timedelta(days=1),
) -> tuple[tuple | None, str | None, str | None]:
    """Convenience wrapper around :meth:`EventValidator.validate`.

    With an explicit ``now`` the validator is cached; with ``now=None`` the
    current time is used (a new validator per call -- slower; hot loops should
    build one :class:`EventValidator` and call ``.validate`` directly).
    """
    if now is None:
        return EventValidator(datetime.now(UTC), retention_days, future_tolerance).validate(raw)
    return _cached_validator(now, retention_days, future_tolerance).validate(raw)
