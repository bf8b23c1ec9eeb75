"""The delivery-hour layout: objects are delivered under ``YYYY/MM/DD/HH/`` key prefixes (as
Kinesis Firehose writes them); a window of deliveries is listed one day prefix at a time, never
with a full listing of the bucket."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from analytics_pipeline.storage.object_store import StoredObject

_DELIVERY_HOUR_IN_KEY = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/(\d{2})/")


def day_prefixes(start: datetime, end: datetime) -> Iterator[str]:
    """``YYYY/MM/DD/`` for each UTC day overlapping ``[start, end)``."""
    day = start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        yield f"{day:%Y/%m/%d}/"
        day += timedelta(days=1)


def delivery_hour_of(obj: StoredObject) -> datetime:
    """The hour an object was delivered: ``YYYY/MM/DD/HH/`` in its key, else its last-modified hour."""
    match = _DELIVERY_HOUR_IN_KEY.search(obj.key)
    if match:
        try:
            return datetime(*map(int, match.groups()), tzinfo=UTC)
        except ValueError:
            pass  # not a real date: fall back to when the object arrived
    return obj.last_modified.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
