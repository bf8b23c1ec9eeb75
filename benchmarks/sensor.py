"""One tick of usage_log_sensor on a store holding many objects, against a full listing.

    .venv/bin/python benchmarks/sensor.py [--objects 100000] [--days 60]

Writes ``--objects`` tiny objects spread over ``--days`` days of ``YYYY/MM/DD/HH/`` prefixes
in a local store (the last two days included), marks the older ones as ingested in the
ledger, then times (a) one evaluation of the sensor (date-bounded listing, ledger lookup,
run requests) and (b) the baseline a naive sensor pays every tick: listing every object.
Dagster cancels a sensor tick after 60 s; the target is "well under" that.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dagster as dg  # noqa: E402
from dagster_aws.s3 import S3Resource  # noqa: E402

from analytics_pipeline.defs.ingestion.sensors import usage_log_sensor  # noqa: E402
from analytics_pipeline.defs.resources import ObjectStorageResource, WarehouseResource  # noqa: E402
from analytics_pipeline.delivery.prefixes import delivery_hour_of  # noqa: E402
from analytics_pipeline.ingestion.loader import USAGE_LOGS_SOURCE  # noqa: E402
from analytics_pipeline.storage.object_store import LocalDirectoryStore  # noqa: E402
from analytics_pipeline.warehouse.database import connect  # noqa: E402
from benchmarks._common import log, print_table, throwaway_postgres, timed  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args(argv)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    hours = args.days * 24

    with throwaway_postgres() as pg:
        root = pg.scratch_dir("logs")
        with timed(f"write {args.objects:,} objects (not measured)"):
            for i in range(args.objects):
                hour = now - timedelta(hours=i % hours)
                path = root / f"{hour:%Y/%m/%d/%H}" / f"stream-{i:07d}.jsonl.gz"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(b"%d" % i)
        store = LocalDirectoryStore(root)
        url = pg.create_database("bench_sensor")
        cutoff = now - timedelta(days=2)
        with timed("mark objects older than 2 days as ingested (not measured)"), connect(url) as conn:
            with conn.cursor().copy("COPY analytics_ingested_objects (source, object_key, etag, size_bytes, "
                                    "delivery_hour, status) FROM STDIN") as copy:
                for obj in store.list():
                    if delivery_hour_of(obj) < cutoff:
                        copy.write_row((USAGE_LOGS_SOURCE, obj.key, obj.etag, obj.size, delivery_hour_of(obj),
                                        "loaded"))
            conn.commit()

        resources = {"warehouse": WarehouseResource(database_url=url),
                     "object_storage": ObjectStorageResource(logs_url=str(root), s3=S3Resource())}
        with dg.instance_for_test() as instance:
            with dg.build_sensor_context(instance=instance, resources=resources) as context:
                with timed("(a) one sensor tick") as tick:
                    result = usage_log_sensor(context)
        requested = sum(len(r.run_config["ops"]["raw_usage_events"]["config"]["object_keys"])
                        for r in result.run_requests)
        with timed("(b) baseline: list every object") as full:
            listed = sum(1 for _ in store.list())

    print()
    print_table(["step", "seconds", "objects"], [
        ["(a) usage_log_sensor tick", f"{tick.seconds:.2f}", f"{requested:,} new in {len(result.run_requests)} runs"],
        ["(b) full listing", f"{full.seconds:.2f}", f"{listed:,} listed"],
    ])
    log(f"\ntarget: a tick well under Dagster's 60 s limit: {tick.seconds:.2f} s -> "
        f"{'PASS' if tick.seconds < 20 else 'FAIL'} ({full.seconds / tick.seconds:.1f}x cheaper than a full listing)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
