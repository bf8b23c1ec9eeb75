"""Freshness asset checks on the data itself, and the schedule that evaluates them.

Why custom checks rather than ``dg.build_last_update_freshness_checks`` /
``build_time_partition_freshness_checks`` + ``build_sensor_for_freshness_checks``: in Dagster
1.13 those builders are superseded by ``FreshnessPolicy`` (which our assets carry), they grade
*materialization* times (a run that loads nothing new, or a backfill of old delivery hours,
makes a stale asset look fresh), and each takes one threshold and one severity, not warn and
fail. These checks grade the warehouse's newest data time with the thresholds of the assets'
own freshness policies (``ANALYTICS_RAW_FRESHNESS_WARN_MINUTES`` / ``_FAIL_MINUTES``), so a
stale pipeline becomes a failed asset check, which alerts can follow.
"""

from datetime import UTC, datetime, timedelta

import dagster as dg

from analytics_pipeline.defs.ingestion.assets import RAW_FRESHNESS, raw_usage_events
from analytics_pipeline.defs.resources import WarehouseResource
from analytics_pipeline.defs.rollups.assets import HOURLY_FRESHNESS, hourly_usage_rollups
from analytics_pipeline.ingestion.freshness import (
    FAIL,
    FRESH,
    WARN,
    FreshnessReading,
    hourly_rollups_freshness,
    raw_events_freshness,
)


def utc_now() -> datetime:
    """The checks' clock (tests set it)."""
    return datetime.now(UTC)


def _minutes(delta: timedelta) -> float:
    return round(delta.total_seconds() / 60, 1)


def _result(reading: FreshnessReading, what: str) -> dg.AssetCheckResult:
    warn, fail = _minutes(reading.warn_after), _minutes(reading.fail_after)
    metadata = {"as_of": dg.MetadataValue.timestamp(reading.as_of), "warn_after_minutes": warn,
                "fail_after_minutes": fail}
    if reading.lag is None:
        description = f"no {what} at all up to {reading.as_of:%Y-%m-%d %H:%M} UTC"
    else:
        metadata["lag_minutes"] = _minutes(reading.lag)
        metadata["newest"] = dg.MetadataValue.timestamp(reading.newest)
        description = f"newest {what} is {_minutes(reading.lag):g} min old" + {
            FRESH: f" (warns beyond {warn:g} min)",
            WARN: f": beyond the warn threshold of {warn:g} min (fails beyond {fail:g} min)",
            FAIL: f": beyond the fail threshold of {fail:g} min"}[reading.state]
    for name, moment in reading.details.items():
        if moment is not None:
            metadata[name] = dg.MetadataValue.timestamp(moment)
            metadata[f"{name}_lag_minutes"] = _minutes(max(reading.as_of - moment, timedelta(0)))
    return dg.AssetCheckResult(
        passed=reading.state == FRESH,
        severity=dg.AssetCheckSeverity.ERROR if reading.state == FAIL else dg.AssetCheckSeverity.WARN,
        description=description,
        metadata=metadata,
    )


@dg.asset_check(asset=raw_usage_events)
def raw_events_are_fresh(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Lag of the newest event time stored in the warehouse (at or before now): warns beyond
    `ANALYTICS_RAW_FRESHNESS_WARN_MINUTES` (60), fails beyond `_FAIL_MINUTES` (120). Graded on
    the data, not on when the asset last ran; also reports the newest ingestion and delivery hour."""
    with warehouse.connect() as conn:
        reading = raw_events_freshness(conn, utc_now(), RAW_FRESHNESS.warn_window.to_timedelta(),
                                       RAW_FRESHNESS.fail_window.to_timedelta())
    return _result(reading, "event")


@dg.asset_check(asset=hourly_usage_rollups)
def hourly_rollups_are_fresh(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Lag of the newest moment the hourly rollups cover (a row covers its hour up to when it
    was computed), with the thresholds of the rollups' freshness policy (raw + 30 / + 60 min)."""
    with warehouse.connect() as conn:
        reading = hourly_rollups_freshness(conn, utc_now(), HOURLY_FRESHNESS.warn_window.to_timedelta(),
                                           HOURLY_FRESHNESS.fail_window.to_timedelta())
    return _result(reading, "rollup coverage")


FRESHNESS_CHECKS = [raw_events_are_fresh, hourly_rollups_are_fresh]

freshness_checks_job = dg.define_asset_job(
    "freshness_checks_job", selection=dg.AssetSelection.checks(*FRESHNESS_CHECKS),
    description="Evaluate the data freshness checks of the raw events and the hourly rollups (no materialization).")

freshness_checks_schedule = dg.ScheduleDefinition(
    name="freshness_checks_schedule", job=freshness_checks_job, cron_schedule="*/15 * * * *",
    execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every 15 minutes: are the raw events and the hourly rollups fresh? (A stale pipeline "
                "runs nothing, so nothing else would notice.)")
