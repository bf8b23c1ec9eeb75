"""Checks of the rollups: blocking reconciliation (a wrong number must not flow on to exports),
and the freshness of the hourly rollups' data."""

import dagster as dg

from analytics_pipeline.defs.resources import ClockResource, WarehouseResource
from analytics_pipeline.defs.rollups.assets import HOURLY_FRESHNESS, daily_usage_rollups, hourly_usage_rollups
from analytics_pipeline.defs.shared import (
    HOURLY_ROLLUPS_ARE_FRESH,
    check_each_partition,
    daily_partitions,
    freshness_check_result,
    hourly_partitions,
    window_metadata,
)
from analytics_pipeline.rollups.freshness import hourly_rollups_freshness
from analytics_pipeline.rollups.reconciliation import daily_mismatches_against_hourly, rollup_mismatches_against_events
from analytics_pipeline.rollups.usage import Granularity


def _mismatch_result(mismatches: list[tuple], window: dg.TimeWindow, what: str) -> dg.AssetCheckResult:
    table = "| bucket | organization | model | expected requests | actual requests | expected cost | actual cost |\n"
    table += "|---|---|---|---|---|---|---|\n" + "\n".join(
        "| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in mismatches)
    return dg.AssetCheckResult(
        passed=not mismatches,
        description=f"{len(mismatches)}{'+' if len(mismatches) == 20 else ''} rows differ from {what}"
        if mismatches else f"every row equals {what}",
        metadata={
            **window_metadata(window),
            "mismatched_rows": len(mismatches),
            **({"mismatches": dg.MetadataValue.md(table)} if mismatches else {}),
        },
    )


@dg.asset_check(asset=hourly_usage_rollups, blocking=True, partitions_def=hourly_partitions)
def hourly_rollups_match_raw_events(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    """Each hourly rollup row equals, exactly, a fresh aggregation of the raw events of its
    hour (requests, tokens, errors, cost); no row is missing or extra. One result per hour."""
    with warehouse.connect() as conn:
        yield from check_each_partition(context, hourly_partitions, lambda _, window: _mismatch_result(
            rollup_mismatches_against_events(conn, Granularity.HOURLY, window.start, window.end), window,
            "the raw events of its hour"))


@dg.asset_check(asset=daily_usage_rollups, blocking=True, partitions_def=daily_partitions)
def daily_rollups_equal_sum_of_hours(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    """Each daily rollup row's additive measures equal the sum of the day's hourly rows."""
    with warehouse.connect() as conn:
        yield from check_each_partition(context, daily_partitions, lambda _, window: _mismatch_result(
            daily_mismatches_against_hourly(conn, window.start, window.end), window, "the sum of its hourly rollups"))


@dg.asset_check(asset=daily_usage_rollups, blocking=True, partitions_def=daily_partitions)
def daily_rollups_match_raw_events(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    """Each daily rollup row equals, exactly, a fresh per-event aggregation of the raw events of
    its day (requests, tokens, errors, cost priced event by event): the daily rows are built
    from the hourly ones, so this is the check that does not take the hours' word for it."""
    with warehouse.connect() as conn:
        yield from check_each_partition(context, daily_partitions, lambda _, window: _mismatch_result(
            rollup_mismatches_against_events(conn, Granularity.DAILY, window.start, window.end), window,
            "the raw events of its day"))


@dg.asset_check(asset=hourly_usage_rollups, name=HOURLY_ROLLUPS_ARE_FRESH.name)
def hourly_rollups_are_fresh(warehouse: WarehouseResource, clock: ClockResource) -> dg.AssetCheckResult:
    """Lag of the newest moment the hourly rollups cover (a row covers its hour up to when it
    was computed), with the thresholds of the rollups' freshness policy (raw + 30 / + 60 min).
    Graded on the data (see `raw_events_are_fresh`); `freshness_checks_schedule` evaluates it."""
    with warehouse.connect() as conn:
        reading = hourly_rollups_freshness(conn, clock.now(), HOURLY_FRESHNESS.warn_window.to_timedelta(),
                                           HOURLY_FRESHNESS.fail_window.to_timedelta())
    return freshness_check_result(reading, "rollup coverage")
