"""The CI run-file contract: validation of one ``metrics/YYYY/MM/DD/<run_id>.json`` file.

Pure Python (no Dagster). :meth:`RunFileValidator.validate` turns the bytes of one file into
a :class:`CiRun` or a ``(reason, detail)`` rejection whose reason is a key of
:data:`QUARANTINE_REASONS`; it never raises for bad input. Example of a valid file::

    {"run_id": "ci-2025-11-08-001", "service": "user-org-service", "command": "make check",
     "status": "success", "started_at": "2025-11-08T15:04:05Z",
     "finished_at": "2025-11-08T15:06:07Z", "duration_seconds": 122.3,
     "commit_sha": "abcdef1234567890", "actor": "dev@example.com",
     "environment": "github-actions", "collector_version": "1.0.0"}

* Required (absent or ``null`` is ``missing_field``): ``run_id``, ``service``, ``command``,
  ``status``, ``started_at``, ``finished_at``, ``duration_seconds``, ``commit_sha``.
* Optional (``null`` == absent): ``actor`` (an email address), ``environment``,
  ``collector_version``. Unknown top-level fields are kept in ``attributes`` (jsonb).
* ``duration_seconds`` must agree with ``finished_at - started_at`` within one second.
* ``actor`` is personal data: it is stored, but only :func:`actor_hash` (the first 16 hex
  characters of the SHA-256 of the lowercased address) may leave the runs table.
* ``content_hash`` is the MD5 of the parsed object serialised with sorted keys, so the same
  run hashes equal whatever its key order or whitespace; a second file with the same
  ``run_id`` is a duplicate when its hash is equal and a ``conflicting_duplicate`` otherwise.

The first failure is reported: size, encoding and JSON first, then missing fields, types,
each field's value, the cross-field checks (order of timestamps, duration agreement, future),
and last U+0000 anywhere in the file (PostgreSQL text and jsonb cannot hold it).
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

QUARANTINE_REASONS: dict[str, str] = {
    "file_too_large": "The file is larger than MAX_FILE_BYTES (256 KiB); only its first 4 KiB are kept.",
    "invalid_encoding": "The file is not UTF-8, or a string in it contains U+0000, which PostgreSQL cannot store.",
    "invalid_json": "The file is empty or not parseable JSON (syntax error, NaN/Infinity, nesting too deep).",
    "not_an_object": "The file is valid JSON but not a JSON object.",
    "missing_field": "A required field is absent or null (see REQUIRED_FIELDS).",
    "invalid_type": "A field has the wrong JSON type (a string where a number is required, or the reverse).",
    "invalid_run_id": "run_id does not match [A-Za-z0-9][A-Za-z0-9._:-]{0,127}.",
    "invalid_value": "service, command, environment or collector_version is blank or longer than 256 characters.",
    "invalid_status": "status is not one of RUN_STATUSES.",
    "invalid_timestamp": "started_at or finished_at is not an ISO-8601 timestamp with a zone offset or 'Z'.",
    "invalid_commit_sha": "commit_sha is not 7 to 64 hexadecimal characters.",
    "invalid_actor": "actor is not an email address.",
    "invalid_duration": "duration_seconds is negative or longer than MAX_DURATION (7 days).",
    "finished_before_started": "finished_at is earlier than started_at.",
    "duration_mismatch": "duration_seconds differs from finished_at - started_at by more than one second.",
    "timestamp_in_future": "finished_at is more than a day ahead of the loader's clock.",
    # loader level
    "conflicting_duplicate": "A run with the same run_id but different content was loaded before.",
}

REQUIRED_FIELDS = ("run_id", "service", "command", "status", "started_at", "finished_at", "duration_seconds",
                   "commit_sha")
OPTIONAL_FIELDS = ("actor", "environment", "collector_version")
KNOWN_FIELDS = frozenset(REQUIRED_FIELDS + OPTIONAL_FIELDS)
RUN_STATUSES = ("success", "failure", "error", "cancelled", "timeout")

MAX_FILE_BYTES = 256 * 1024
MAX_TEXT_CHARS = 256
MAX_DURATION = timedelta(days=7)
DURATION_TOLERANCE_SECONDS = 1.0
FUTURE_TOLERANCE = timedelta(days=1)
ACTOR_HASH_CHARS = 16

_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_COMMIT_SHA = re.compile(r"[0-9a-fA-F]{7,64}")
# Deliberately loose: one @, no whitespace, a dot in the domain. Mail servers decide the rest.
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
_UTF8_BOM = b"\xef\xbb\xbf"


def actor_hash(actor: str) -> str:
    """The pseudonym of an actor's email that aggregates and exports may show."""
    return hashlib.sha256(actor.strip().lower().encode()).hexdigest()[:ACTOR_HASH_CHARS]


@dataclass(frozen=True)
class CiRun:
    """One valid run, in ``analytics_ci_runs`` column names (``file_date`` comes from the key)."""

    run_id: str
    service: str
    command: str
    status: str
    started_at: datetime
    finished_at: datetime
    duration_seconds: float
    commit_sha: str
    actor: str | None
    actor_hash: str | None
    environment: str | None
    collector_version: str | None
    attributes: str | None  # JSON text of the unknown fields, or None
    content_hash: str

    def row(self, *, file_date: date, object_id: int) -> dict[str, Any]:
        return {**self.__dict__, "file_date": file_date, "object_id": object_id}


class Rejection(Exception):
    """Raised inside validation to stop at the first failure; never escapes :meth:`validate`."""

    def __init__(self, reason: str, detail: str):
        assert reason in QUARANTINE_REASONS, reason
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail


def _preview(value: Any) -> str:
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array",
            dict: "object"}.get(type(value), type(value).__name__)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _text(obj: dict, name: str) -> str | None:
    value = obj.get(name)
    if value is not None and (not value.strip() or len(value) > MAX_TEXT_CHARS):
        raise Rejection("invalid_value", f"{name} must be 1..{MAX_TEXT_CHARS} characters and not blank, "
                                         f"got {len(value)} characters {_preview(value)}")
    return value


def _timestamp(obj: dict, name: str) -> datetime:
    text = obj[name]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Rejection("invalid_timestamp", f"{name} {_preview(text)} is not ISO-8601") from None
    if moment.tzinfo is None:
        raise Rejection("invalid_timestamp", f"{name} {_preview(text)} has no zone offset")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise Rejection("invalid_timestamp", f"{name} {_preview(text)} is not representable in UTC") from None


class RunFileValidator:
    """Validates run files against the contract; ``now`` bounds how far in the future a run may end."""

    def __init__(self, now: datetime | None = None):
        self.now = now or datetime.now(UTC)

    def validate(self, data: bytes) -> tuple[CiRun | None, str | None, str | None]:
        """``(run, None, None)`` for a valid file, ``(None, reason, detail)`` otherwise."""
        try:
            return self._validate(data), None, None
        except Rejection as rejection:
            return None, rejection.reason, rejection.detail

    def _validate(self, data: bytes) -> CiRun:
        if len(data) > MAX_FILE_BYTES:
            raise Rejection("file_too_large", f"{len(data)} bytes, more than {MAX_FILE_BYTES}")
        data = data.removeprefix(_UTF8_BOM)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise Rejection("invalid_encoding", f"not UTF-8: {error.reason} at byte {error.start}") from None
        if not data.strip():
            raise Rejection("invalid_json", "the file is empty")
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            raise Rejection("invalid_json", str(error)[:200]) from None
        if type(obj) is not dict:
            raise Rejection("not_an_object", f"expected a JSON object, got {_kind(obj)}")
        missing = [name for name in REQUIRED_FIELDS if obj.get(name) is None]
        if missing:
            raise Rejection("missing_field", "required field(s) missing or null: " + ", ".join(missing))

        for name in (*REQUIRED_FIELDS, *OPTIONAL_FIELDS):
            value = obj.get(name)
            wanted = "number" if name == "duration_seconds" else "string"
            if value is not None and (_kind(value) != wanted):
                raise Rejection("invalid_type", f"{name} must be a {wanted}, got {_kind(value)} {_preview(value)}")
        run_id, status, commit_sha, actor = obj["run_id"], obj["status"], obj["commit_sha"], obj.get("actor")
        if _RUN_ID.fullmatch(run_id) is None:
            raise Rejection("invalid_run_id", f"run_id {_preview(run_id)} does not match {_RUN_ID.pattern}")
        service, command = _text(obj, "service"), _text(obj, "command")
        environment, collector_version = _text(obj, "environment"), _text(obj, "collector_version")
        if status not in RUN_STATUSES:
            raise Rejection("invalid_status", f"status {_preview(status)} is not one of {', '.join(RUN_STATUSES)}")
        started_at = _timestamp(obj, "started_at")
        finished_at = _timestamp(obj, "finished_at")
        if _COMMIT_SHA.fullmatch(commit_sha) is None:
            raise Rejection("invalid_commit_sha", f"commit_sha {_preview(commit_sha)} is not 7-64 hex characters")
        if actor is not None and _EMAIL.fullmatch(actor.strip()) is None:
            # The detail never repeats the value: it may still be personal data.
            raise Rejection("invalid_actor", f"actor is not an email address ({len(actor)} characters)")
        duration = float(obj["duration_seconds"])
        if not (math.isfinite(duration) and 0 <= duration <= MAX_DURATION.total_seconds()):
            raise Rejection("invalid_duration", f"duration_seconds {_preview(obj['duration_seconds'])} is not "
                                                f"within 0..{MAX_DURATION.total_seconds():.0f}")
        if finished_at < started_at:
            raise Rejection("finished_before_started", f"finished_at {finished_at.isoformat()} is before "
                                                       f"started_at {started_at.isoformat()}")
        elapsed = (finished_at - started_at).total_seconds()
        if abs(duration - elapsed) > DURATION_TOLERANCE_SECONDS:
            raise Rejection("duration_mismatch", f"duration_seconds {duration:g} but finished_at - started_at "
                                                 f"is {elapsed:g} s")
        if finished_at > self.now + FUTURE_TOLERANCE:
            raise Rejection("timestamp_in_future", f"finished_at {finished_at.isoformat()} is more than "
                                                   f"{FUTURE_TOLERANCE} after {self.now.isoformat()}")
        if b"\\u0000" in data and _has_nul(obj):
            raise Rejection("invalid_encoding", "a string contains U+0000, which PostgreSQL cannot store")
        try:
            canonical = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
            extra = {k: v for k, v in obj.items() if k not in KNOWN_FIELDS}
            attributes = orjson.dumps(extra, option=orjson.OPT_SORT_KEYS).decode() if extra else None
        except TypeError as error:  # orjson's recursion limit
            raise Rejection("invalid_json", f"cannot serialise the file: {error}") from None
        return CiRun(
            run_id=run_id, service=service, command=command, status=status, started_at=started_at,
            finished_at=finished_at, duration_seconds=duration, commit_sha=commit_sha.lower(),
            actor=actor.strip() if actor is not None else None,
            actor_hash=actor_hash(actor) if actor is not None else None,
            environment=environment, collector_version=collector_version, attributes=attributes,
            content_hash=hashlib.md5(canonical, usedforsecurity=False).hexdigest(),
        )
