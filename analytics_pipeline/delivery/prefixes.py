"""Date-bounded key prefixes: a window of deliveries is listed one day prefix at a time, never
with a full listing of the bucket."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta


def day_prefixes(start: datetime, end: datetime) -> Iterator[str]:
    """``YYYY/MM/DD/`` for each UTC day overlapping ``[start, end)``."""
    day = start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        yield f"{day:%Y/%m/%d}/"
        day += timedelta(days=1)
