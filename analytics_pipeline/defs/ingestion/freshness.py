"""``raw_events_are_fresh``: a freshness asset check on the data itself.

Why custom checks rather than ``dg.build_last_update_freshness_checks`` /
``build_time_partition_freshness_checks`` + ``build_sensor_for_freshness_checks``: in Dagster
1.13 those builders are superseded by ``FreshnessPolicy`` (which our assets carry), they grade
*materialization* times (a run that loads nothing new, or a backfill of old delivery hours,
makes a stale asset look fresh), and each takes one threshold and one severity, not warn and
fail. This check grades the warehouse's newest event time with the thresholds of the asset's
own freshness policy (``ANALYTICS_RAW_FRESHNESS_WARN_MINUTES`` / ``_FAIL_MINUTES``), so a stale
pipeline becomes a failed asset check, which alerts can follow. ``freshness_checks_schedule``
(``defs/ingestion/schedules.py``) evaluates it with the rollups' own.
"""

import dagster as dg

from analytics_pipeline.defs.ingestion.assets import RAW_FRESHNESS, raw_usage_events
from analytics_pipeline.defs.resources import ClockResource, WarehouseResource
from analytics_pipeline.defs.shared import RAW_EVENTS_ARE_FRESH, freshness_check_result
from analytics_pipeline.ingestion.freshness import raw_events_freshness


@dg.asset_check(asset=raw_usage_events, name=RAW_EVENTS_ARE_FRESH.name)
def raw_events_are_fresh(warehouse: WarehouseResource, clock: ClockResource) -> dg.AssetCheckResult:
    """Lag of the newest event time stored in the warehouse (at or before now): warns beyond
    `ANALYTICS_RAW_FRESHNESS_WARN_MINUTES` minutes, fails beyond `ANALYTICS_RAW_FRESHNESS_FAIL_MINUTES`.
    Graded on the data, not on when the asset last ran; also reports the newest ingestion and
    delivery hour."""
    with warehouse.connect() as conn:
        reading = raw_events_freshness(conn, clock.now(), RAW_FRESHNESS.warn_window.to_timedelta(),
                                       RAW_FRESHNESS.fail_window.to_timedelta())
    return freshness_check_result(reading, "event")
