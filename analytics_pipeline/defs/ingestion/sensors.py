"""``usage_log_sensor``: new log objects in object storage become raw_usage_events runs."""

import hashlib
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import dagster as dg

from analytics_pipeline.defs.ingestion.assets import raw_usage_events
from analytics_pipeline.defs.partitions import hourly_partitions
from analytics_pipeline.defs.resources import ObjectStorageResource, WarehouseResource
from analytics_pipeline.ingestion.batch import day_prefixes
from analytics_pipeline.ingestion.loader import USAGE_LOGS_SOURCE, delivery_hour_of
from analytics_pipeline.settings import load_settings
from analytics_pipeline.warehouse.sql import load_sql

MAX_OBJECTS_PER_TICK = 5_000
HOUR_KEY_FORMAT = "%Y-%m-%d-%H:%M"


def _run_key(objects) -> str:
    identity = "\n".join(sorted(f"{o.key}@{o.etag}" for o in objects))
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


@dg.sensor(
    target=[raw_usage_events],
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def usage_log_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, object_storage: ObjectStorageResource
) -> dg.SensorResult:
    """Requests a `raw_usage_events` run per delivery hour that has log objects not yet in the
    ingest ledger. Lists only the last `ANALYTICS_SENSOR_LOOKBACK_DAYS` (default 2) days of
    `YYYY/MM/DD/` prefixes, page by page, and at most 5,000 objects per tick. The ledger in
    the warehouse, not the cursor, decides what is new; `run_key` is built from the objects'
    keys and etags, so a re-evaluated tick never launches the same work twice."""
    now = datetime.now(UTC)
    since = (now - timedelta(days=load_settings().sensor_lookback_days)).replace(minute=0, second=0, microsecond=0)
    store = object_storage.logs()
    with warehouse.connect() as conn:
        known = set(conn.execute(load_sql("ingestion/known_objects_since"),
                                 {"source": USAGE_LOGS_SOURCE, "since": since - timedelta(days=1)}).fetchall())

    first_partition = hourly_partitions.start
    new_by_hour = defaultdict(list)
    listed = 0
    for prefix in day_prefixes(since, now + timedelta(hours=1)):
        for obj in store.list(prefix):
            listed += 1
            if (obj.key, obj.etag) in known:
                continue
            hour = delivery_hour_of(obj)
            if hour < first_partition:
                context.log.warning(f"{obj.key}: delivered before the first partition, ignored")
                continue
            new_by_hour[hour].append(obj)
            if sum(map(len, new_by_hour.values())) >= MAX_OBJECTS_PER_TICK:
                break
        else:
            continue
        break

    run_requests = [
        dg.RunRequest(
            run_key=_run_key(objects),
            partition_key=hour.strftime(HOUR_KEY_FORMAT),
            run_config={"ops": {"raw_usage_events": {"config": {"object_keys": sorted(o.key for o in objects)}}}},
            tags={"analytics/objects": str(len(objects))},
        )
        for hour, objects in sorted(new_by_hour.items())
    ]
    context.log.info(f"listed {listed} objects since {since.isoformat()}; {len(run_requests)} hours with new objects")
    return dg.SensorResult(run_requests=run_requests)
