"""Mergeable latency distributions: a log-bucket sketch (DDSketch's) kept with each hourly row.

Why a sketch and not the exact value -> count histogram (measured by
``benchmarks/latency_distributions.py``, figures in the README's performance section): the event
contract takes any ``duration_ms`` >= 0, and real durations come with fractions of a millisecond,
so nearly every request of an hourly row has a value of its own. An exact histogram is then as
large as the raw durations, and a 31-day percentile of the largest organization would merge about
a million values: no index or merge answers that in 50 ms. The sketch has one bucket per 2 %
step of latency (~1,200 cover 1 µs to 3 h), so a row holds at most a few hundred buckets
whatever its traffic, and a month of the largest organization merges tens of thousands.

The sketch: a duration ``x > 0`` falls in bucket ``key = ceil(log_gamma(x))``, the interval
``(gamma^(key-1), gamma^key]``; 0 has a bucket of its own (``ZERO_KEY``, value 0). A bucket
stands for ``2 gamma^key / (gamma + 1)``, within ``(gamma - 1) / (gamma + 1)`` of anything in
it. ``gamma`` is set for 0.99 %, so a value that float rounding puts in the neighbouring bucket
is still within the documented **1 %**.

Percentiles keep ``percentile_cont``'s definition (the hourly rows' own exact p50/p95/p99 stay
as they are): over ``n`` requests, position ``p (n - 1)`` interpolates linearly between the
values at ranks ``floor`` and ``ceil`` of it. Buckets are ordered like their values, so the
request of rank ``k`` lies in the bucket where the running count first exceeds ``k``; the
answer interpolates those buckets' values, each within 1 % of the true one, so the answer is
within 1 % of the exact ``percentile_cont`` over the raw events, for any set of merged rows.

PostgreSQL does the work (migration 0012 defines the functions): ``analytics_latency_key`` and
``analytics_latency_value`` are the two maps above, and ``analytics_latency_percentile(keys,
counts, fraction)`` reads a percentile off a merged sketch. Merging is a sum of counts per key
(``unnest`` and ``GROUP BY``, in the rollup and range queries). This module is the same
definition in Python, for the tests and the measurements.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

#: The sketch's relative accuracy, as designed; the documented bound is RELATIVE_ERROR.
DESIGN_ACCURACY = 0.0099
#: What the rollups promise: a merged percentile is within 1 % of the exact one.
RELATIVE_ERROR = 0.01
GAMMA = (1 + DESIGN_ACCURACY) / (1 - DESIGN_ACCURACY)
LN_GAMMA = math.log(GAMMA)
#: The bucket of zero durations (lower than every other key).
ZERO_KEY = -2_147_483_648


def sketch_key(duration_ms: float) -> int:
    """The bucket of ``duration_ms`` (>= 0), as ``analytics_latency_key`` computes it."""
    if duration_ms <= 0:
        return ZERO_KEY
    return math.ceil(math.log(duration_ms) / LN_GAMMA)


def bucket_value(key: int) -> float:
    """The value a bucket stands for, as ``analytics_latency_value`` computes it."""
    if key == ZERO_KEY:
        return 0.0
    return 2.0 * math.exp(key * LN_GAMMA) / (GAMMA + 1.0)


def sketch_of(durations: Iterable[float]) -> dict[int, int]:
    """The sketch (key -> count) of some durations."""
    counts: dict[int, int] = {}
    for duration in durations:
        key = sketch_key(duration)
        counts[key] = counts.get(key, 0) + 1
    return counts


def sketch_percentile(sketch: Mapping[int, int], fraction: float) -> float | None:
    """``percentile_cont(fraction)`` read off a sketch (None when it is empty)."""
    total = sum(sketch.values())
    if total == 0:
        return None
    position = fraction * (total - 1)
    low_rank, high_rank = math.floor(position), math.ceil(position)
    low = high = None
    seen = 0
    for key in sorted(sketch):
        seen += sketch[key]
        if low is None and seen > low_rank:
            low = bucket_value(key)
        if seen > high_rank:
            high = bucket_value(key)
            break
    return low + (high - low) * (position - low_rank)
