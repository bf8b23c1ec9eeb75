"""``metric_stream_sensor``: new CloudWatch Metric Streams objects loaded into the per-minute table.

Like the usage-log sensor, each tick lists only the date-bounded ``YYYY/MM/DD/`` prefixes of the
look-back days, page by page, and the ledger in the warehouse (not the cursor) decides what is
new. Unlike it, the tick loads the objects itself: an object is a few hundred kilobytes of
datapoints and loads in one short transaction (claimed in the ledger in it, so a re-evaluated or
overlapping tick loads nothing twice), and a run per minute of metrics would cost more than the
load. A tick stops starting loads after :data:`TICK_BUDGET_SECONDS`; the next one goes on.
"""

import time
from datetime import timedelta

import dagster as dg

from analytics_pipeline.defs.resources import ClockResource, ObjectStorageResource, WarehouseResource
from analytics_pipeline.defs.shared import described_sensor
from analytics_pipeline.defs.system_health.assets import SERVICE_MINUTE_METRICS
from analytics_pipeline.delivery.discovery import discover_new_objects
from analytics_pipeline.delivery.prefixes import day_prefixes
from analytics_pipeline.system_health.loader import known_objects_since, load_object

MAX_OBJECTS_PER_TICK = 500
TICK_BUDGET_SECONDS = 30.0


@described_sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def metric_stream_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource,
                         object_storage: ObjectStorageResource, clock: ClockResource) -> dg.SensorResult:
    """Loads the CloudWatch Metric Streams objects under `ANALYTICS_METRIC_STREAMS_URL` that the ledger
    (`analytics_metric_stream_objects`) does not hold, each once, into `analytics_service_minute_metrics`;
    lists only the last `ANALYTICS_SENSOR_LOOKBACK_DAYS` days of `YYYY/MM/DD/` prefixes. Reports one
    materialization of `service_minute_metrics` per tick that loaded something (objects, datapoints,
    duplicates, rejected lines)."""
    if not object_storage.metric_streams_url:
        return dg.SensorResult(skip_reason="ANALYTICS_METRIC_STREAMS_URL names no store")
    now = clock.now()
    since = (now - timedelta(days=object_storage.sensor_lookback_days)).replace(minute=0, second=0, microsecond=0)
    store = object_storage.metric_streams()
    deadline = time.monotonic() + TICK_BUDGET_SECONDS
    totals = {"objects": 0, "lines_read": 0, "datapoints": 0, "duplicates": 0, "rejected": 0}
    with warehouse.connect() as conn:
        found = discover_new_objects(store, day_prefixes(since, now + timedelta(hours=1)),
                                     known_objects_since(conn, since - timedelta(days=1)), limit=MAX_OBJECTS_PER_TICK)
        left = 0
        for index, obj in enumerate(found.new_objects):
            if time.monotonic() > deadline:
                left = len(found.new_objects) - index
                break
            loaded = load_object(conn, store, obj, now=now)
            if not loaded.loaded:
                continue
            if loaded.rejected:
                context.log.warning(f"{obj.key}: {loaded.rejected} line(s) rejected {loaded.rejections}")
            totals["objects"] += 1
            for name in ("lines_read", "datapoints", "duplicates", "rejected"):
                totals[name] += getattr(loaded, name)
    summary = (f"loaded {totals['objects']} object(s), {totals['datapoints']} datapoint(s), "
               f"{totals['duplicates']} duplicate(s), {totals['rejected']} rejected line(s)")
    if left or found.truncated:
        summary += "; more objects left for the next tick"
    if not totals["objects"]:
        return dg.SensorResult(skip_reason=summary)
    return dg.SensorResult(skip_reason=summary, asset_events=[dg.AssetMaterialization(
        SERVICE_MINUTE_METRICS, metadata={**totals, "listed": found.listed, "left_for_next_tick": left})])
