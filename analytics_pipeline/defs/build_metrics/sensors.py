"""``build_metrics_sensor``: new CI run files become ``build_metrics_job`` runs, one per day."""

from collections import defaultdict
from datetime import timedelta

import dagster as dg

from analytics_pipeline.build_metrics.loader import (
    BUILD_METRICS_SOURCE,
    file_date_of,
    is_run_file,
    metrics_day_prefixes,
)
from analytics_pipeline.defs.build_metrics.jobs import build_metrics_job
from analytics_pipeline.defs.resources import ClockResource, ObjectStorageResource, WarehouseResource
from analytics_pipeline.defs.shared import OBJECTS_TAG, daily_partitions, described_sensor
from analytics_pipeline.delivery.discovery import discover_new_objects, known_objects_since, run_key_for

MAX_FILES_PER_TICK = 5_000


@described_sensor(target=build_metrics_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def build_metrics_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource,
                         object_storage: ObjectStorageResource, clock: ClockResource) -> dg.SensorResult:
    """Requests a `build_metrics_job` run (run files, then trends and checks) per day that has
    run files not yet in the ingest ledger. Lists only the last `ANALYTICS_SENSOR_LOOKBACK_DAYS`
    days of `metrics/YYYY/MM/DD/` prefixes, page by page, at most 5,000 files per
    tick. The ledger in the warehouse, not the cursor, decides what is new; `run_key` is built
    from the files' keys and etags, so a re-evaluated tick never launches the same work twice
    and an overwritten file is loaded again."""
    now = clock.now()
    since = (now - timedelta(days=object_storage.sensor_lookback_days)).replace(
        hour=0, minute=0, second=0, microsecond=0)
    store = object_storage.build_metrics()
    with warehouse.connect() as conn:
        known = known_objects_since(conn, BUILD_METRICS_SOURCE, since - timedelta(days=1))
    found = discover_new_objects(store, metrics_day_prefixes(since, now), known, limit=MAX_FILES_PER_TICK,
                                 accept=is_run_file)

    if found.ignored:
        context.log.warning(f"not run files (metrics/YYYY/MM/DD/<run_id>.json), ignored: {found.ignored}")
    first_day = daily_partitions.start.date()
    new_by_day = defaultdict(list)
    for obj in found.new_objects:
        day = file_date_of(obj)
        if day < first_day:
            context.log.warning(f"{obj.key}: dated before the first partition, ignored")
            continue
        new_by_day[day].append(obj)

    run_requests = [
        dg.RunRequest(
            run_key=run_key_for(objects),
            partition_key=day.isoformat(),
            run_config={"ops": {"ci_build_runs": {"config": {"object_keys": sorted(o.key for o in objects)}}}},
            tags={OBJECTS_TAG: str(len(objects))},
        )
        for day, objects in sorted(new_by_day.items())
    ]
    context.log.info(f"listed {found.listed} files since {since.date()}; {len(run_requests)} days with new files"
                     + (" (limit reached, more next tick)" if found.truncated else ""))
    return dg.SensorResult(run_requests=run_requests)
