"""The opaque list cursor: the keyset position (created_at, job_id) of a page's last job."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

import orjson

from analytics_pipeline.exports.export_jobs import InvalidExportRequest, accepted_time

#: What a cursor looks like (URL-safe base64 without padding), for the OpenAPI document.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+$"


class InvalidCursor(ValueError):
    pass


def encode_cursor(created_at: datetime, job_id: uuid.UUID) -> str:
    # Microseconds kept: the position must be exact, or a page could repeat or skip a job.
    raw = orjson.dumps({"c": created_at.isoformat(timespec="microseconds"), "j": str(job_id)})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        created_at = datetime.fromisoformat(data["c"])
        if created_at.tzinfo is None:
            raise ValueError("naive")
        return accepted_time(created_at, "cursor"), uuid.UUID(data["j"])
    except (binascii.Error, orjson.JSONDecodeError, ValueError, KeyError, TypeError, AttributeError,
            InvalidExportRequest):
        raise InvalidCursor("the cursor is not one this API returned; start again without it") from None
