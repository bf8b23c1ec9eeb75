"""Measurement: how large a mergeable latency distribution per hourly rollup row would be, exact or sketched.

    .venv/bin/python benchmarks/latency_distributions.py [--events-per-hour 13441] [--days 1]

Decides issue 23's storage (see analytics_pipeline/rollups/latency.py): for each hourly rollup row
(hour x organization x model) it counts the distinct ``duration_ms`` values (the size of an exact
value -> count histogram) and the occupied buckets of the 1 % log sketch, on two data sets:

  * the demo generator's events (analytics_pipeline/generator/usage_logs.py; integer milliseconds,
    20 organizations), ``--days`` days at ``--events-per-hour`` (13,441 = 10M events a 31-day month);
  * "realistic" events as benchmarks/rollups.py fills them: durations to the microsecond (the event
    contract takes any number >= 0, and real clocks report fractions), 1,000 organizations with its
    skew (the largest ~10 % of the traffic), five model slots, 10M events a month.

It prints, per data set: hourly rows, mean/max distinct values per row, bytes of an exact histogram
(float8 value + int8 count per distinct value) against the sketch (int4 key + int8 count per bucket),
and the elements a 31-day range percentile of the largest organization would merge (its daily rows:
projected from the measured days). Pure Python and numpy; no database.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

import numpy as np  # noqa: E402
import orjson  # noqa: E402

from analytics_pipeline.generator.usage_logs import generate_usage_logs  # noqa: E402
from analytics_pipeline.rollups.latency import sketch_key  # noqa: E402
from benchmarks._common import log, print_table  # noqa: E402

EXACT_BYTES_PER_VALUE = 8 + 8  # float8 value + int8 count
SKETCH_BYTES_PER_BUCKET = 4 + 8  # int4 key + int8 count
ARRAY_HEADER_BYTES = 2 * 24  # two one-dimensional arrays


def generator_rows(days: int, events_per_hour: int) -> dict[tuple, list[float]]:
    """Durations per (hour, organization, model) of the demo generator's valid events."""
    rows: dict[tuple, list[float]] = defaultdict(list)

    def collect(_key: str, data: bytes) -> None:
        for line in gzip.decompress(data).splitlines():
            event = orjson.loads(line)
            rows[(event["timestamp"][:13], event["customer_id"], event.get("model_id"))].append(
                float(event["duration_ms"]))

    generate_usage_logs(collect, start=date(2026, 7, 1), days=days, events_per_hour=events_per_hour)
    return rows


def realistic_rows(days: int, events_per_hour: int, orgs: int = 1000, seed: int = 23) -> dict[tuple, np.ndarray]:
    """Durations per (hour, organization, model slot) drawn as benchmarks/rollups.py's FILL_SQL draws them."""
    rng = np.random.default_rng(seed)
    count = days * 24 * events_per_hour
    hour = rng.integers(0, days * 24, count)
    organization = np.floor(rng.random(count) ** 3 * orgs).astype(np.int64)
    model = rng.integers(0, 20, count)
    model = np.select([model < 7, model < 12, model < 15, model < 17], [0, 1, 2, 3], 4)  # 4: no model
    duration = np.floor(10000.0 * np.exp(rng.random(count) * rng.random(count) * 8)) / 1000.0
    order = np.lexsort((organization, model, hour))
    group_key = (hour * orgs + organization) * 5 + model
    group_key = group_key[order]
    duration = duration[order]
    cuts = np.flatnonzero(np.diff(group_key)) + 1
    keys = np.split(group_key, cuts)
    values = np.split(duration, cuts)
    return {(int(k[0]) // (orgs * 5), int(k[0]) // 5 % orgs, int(k[0]) % 5): v
            for k, v in zip(keys, values, strict=True)}


def measure(name: str, rows: dict[tuple, object], days: int) -> tuple:
    distinct = []
    buckets = []
    requests = []
    by_org_day_values: dict[tuple, set] = defaultdict(set)
    by_org_day_buckets: dict[tuple, set] = defaultdict(set)
    org_requests: Counter = Counter()
    for (hour, organization, model), durations in rows.items():
        values = set(map(float, durations))
        keys = {sketch_key(v) for v in values}
        distinct.append(len(values))
        buckets.append(len(keys))
        requests.append(len(durations))
        day = hour // 24 if isinstance(hour, int) else hour[:10]
        by_org_day_values[(day, organization, model)] |= values
        by_org_day_buckets[(day, organization, model)] |= keys
        org_requests[organization] += len(durations)
    largest, largest_requests = org_requests.most_common(1)[0]
    exact_month = 31 / days * sum(len(v) for (_, o, _), v in by_org_day_values.items() if o == largest)
    sketch_month = 31 / days * sum(len(v) for (_, o, _), v in by_org_day_buckets.items() if o == largest)
    exact_bytes = sum(ARRAY_HEADER_BYTES + EXACT_BYTES_PER_VALUE * d for d in distinct)
    sketch_bytes = sum(ARRAY_HEADER_BYTES + SKETCH_BYTES_PER_BUCKET * b for b in buckets)
    return (name, f"{len(rows):,}", f"{sum(requests) / len(rows):.1f} / {max(requests):,}",
            f"{sum(distinct) / len(rows):.1f} / {max(distinct):,}",
            f"{sum(buckets) / len(rows):.1f} / {max(buckets):,}",
            f"{exact_bytes / 1e6:.1f} MB", f"{sketch_bytes / 1e6:.1f} MB",
            f"{exact_month:,.0f}", f"{sketch_month:,.0f}", f"{31 / days * largest_requests:,.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events-per-hour", type=int, default=13_441, help="13,441 = 10M events a 31-day month")
    parser.add_argument("--days", type=int, default=1)
    args = parser.parse_args(argv)
    log(f"{args.days} day(s) at {args.events_per_hour:,} events an hour")
    results = [measure("demo generator (integer ms, 20 orgs)", generator_rows(args.days, args.events_per_hour),
                       args.days),
               measure("realistic (microseconds, 1,000 orgs)", realistic_rows(args.days, args.events_per_hour),
                       args.days)]
    print_table(("data", "hourly rows", "requests/row mean / max", "distinct values/row mean / max",
                 "sketch buckets/row mean / max", f"exact, {args.days} day(s)", f"sketch, {args.days} day(s)",
                 "31-day largest org: exact elements", "sketch elements", "its requests"), results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
