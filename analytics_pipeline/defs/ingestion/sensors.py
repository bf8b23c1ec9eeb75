"""``usage_log_sensor``: new log objects in object storage become raw_usage_events runs."""

from collections import defaultdict
from datetime import timedelta

import dagster as dg

from analytics_pipeline.defs.ingestion.jobs import raw_usage_events_job
from analytics_pipeline.defs.resources import ClockResource, ObjectStorageResource, WarehouseResource
from analytics_pipeline.defs.shared import HOUR_KEY_FORMAT, OBJECTS_TAG, described_sensor, hourly_partitions
from analytics_pipeline.delivery.discovery import discover_new_objects, known_objects_since, run_key_for
from analytics_pipeline.delivery.prefixes import day_prefixes, delivery_hour_of
from analytics_pipeline.ingestion.loader import USAGE_LOGS_SOURCE

MAX_OBJECTS_PER_TICK = 5_000


@described_sensor(
    job=raw_usage_events_job,
    # A tick is one date-bounded listing and one indexed ledger query: cheap enough to run twice
    # a minute, which halves the wait of a new object for its run (benchmarks/freshness.py).
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def usage_log_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource,
                     object_storage: ObjectStorageResource, clock: ClockResource) -> dg.SensorResult:
    """Requests a `raw_usage_events_job` run (the asset and its delivery-hour checks) per
    delivery hour that has log objects not yet in the ingest ledger. Lists only the last
    `ANALYTICS_SENSOR_LOOKBACK_DAYS` days of `YYYY/MM/DD/` prefixes, page by page,
    and at most 5,000 objects per tick. The ledger in
    the warehouse, not the cursor, decides what is new; `run_key` is built from the objects'
    keys and etags, so a re-evaluated tick never launches the same work twice."""
    now = clock.now()
    since = (now - timedelta(days=object_storage.sensor_lookback_days)).replace(minute=0, second=0, microsecond=0)
    with warehouse.connect() as conn:
        known = known_objects_since(conn, USAGE_LOGS_SOURCE, since - timedelta(days=1))
    first_partition = hourly_partitions.start
    found = discover_new_objects(object_storage.logs(), day_prefixes(since, now + timedelta(hours=1)), known,
                                 limit=MAX_OBJECTS_PER_TICK,
                                 accept=lambda obj: delivery_hour_of(obj) >= first_partition)
    if found.ignored:
        context.log.warning(f"delivered before the first partition, ignored: {found.ignored}")
    new_by_hour = defaultdict(list)
    for obj in found.new_objects:
        new_by_hour[delivery_hour_of(obj)].append(obj)

    run_requests = [
        dg.RunRequest(
            run_key=run_key_for(objects),
            partition_key=hour.strftime(HOUR_KEY_FORMAT),
            run_config={"ops": {"raw_usage_events": {"config": {"object_keys": sorted(o.key for o in objects)}}}},
            tags={OBJECTS_TAG: str(len(objects))},
        )
        for hour, objects in sorted(new_by_hour.items())
    ]
    context.log.info(f"listed {found.listed} objects since {since.isoformat()}; {len(run_requests)} hours with "
                     f"new objects{' (more next tick)' if found.truncated else ''}")
    return dg.SensorResult(run_requests=run_requests)
