"""Chart data for the vendored uPlot: one JSON object per chart, read by ``static/portal.js``
from a ``<script type="application/json">`` block under the chart (no inline script)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def time_chart(buckets: Sequence[datetime], series: Mapping[str, Iterable], *, kind: str = "line",
               unit: str = "", percent: bool = False, right: Mapping[str, str] | None = None) -> dict:
    """x: the bucket starts (unix seconds); one series per label, a value (or None: a gap) per bucket.
    ``kind`` is ``line`` or ``bars``; ``unit`` labels the y axis; ``right`` puts the series it names
    on a second axis, on the right, labelled with its value."""
    right = right or {}
    return {"x": [int(moment.timestamp()) for moment in buckets],
            "series": [{"label": label, "values": [_plain(v) for v in values],
                        **({"axis": "right"} if label in right else {})} for label, values in series.items()],
            "kind": kind, "unit": unit, "rightUnit": next(iter(right.values()), ""), "percent": percent}
