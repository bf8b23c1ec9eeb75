"""Blocking reconciliation checks of the rollups: a wrong number must not flow on to exports."""

import dagster as dg

from analytics_pipeline.defs.partitions import daily_partitions, hourly_partitions
from analytics_pipeline.defs.resources import WarehouseResource
from analytics_pipeline.defs.rollups.assets import daily_usage_rollups, hourly_usage_rollups
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
            "window_start": window.start.isoformat(),
            "window_end": window.end.isoformat(),
            "mismatched_rows": len(mismatches),
            **({"mismatches": dg.MetadataValue.md(table)} if mismatches else {}),
        },
    )


@dg.asset_check(asset=hourly_usage_rollups, blocking=True, partitions_def=hourly_partitions)
def hourly_rollups_match_raw_events(context: dg.AssetCheckExecutionContext,
                                    warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Each hourly rollup row equals, exactly, a fresh aggregation of the raw events of its
    hour (requests, tokens, errors, cost); no row is missing or extra."""
    window = context.partition_time_window
    with warehouse.connect() as conn:
        mismatches = rollup_mismatches_against_events(conn, Granularity.HOURLY, window.start, window.end)
    return _mismatch_result(mismatches, window, "the raw events of its hour")


@dg.asset_check(asset=daily_usage_rollups, blocking=True, partitions_def=daily_partitions)
def daily_rollups_equal_sum_of_hours(context: dg.AssetCheckExecutionContext,
                                     warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Each daily rollup row's additive measures equal the sum of the day's hourly rows."""
    window = context.partition_time_window
    with warehouse.connect() as conn:
        mismatches = daily_mismatches_against_hourly(conn, window.start, window.end)
    return _mismatch_result(mismatches, window, "the sum of its hourly rollups")


@dg.asset_check(asset=daily_usage_rollups, blocking=True, partitions_def=daily_partitions)
def daily_rollups_match_raw_events(context: dg.AssetCheckExecutionContext,
                                   warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Each daily rollup row equals, exactly, a fresh per-event aggregation of the raw events of
    its day (requests, tokens, errors, cost priced event by event): the daily rows are built
    from the hourly ones, so this is the check that does not take the hours' word for it."""
    window = context.partition_time_window
    with warehouse.connect() as conn:
        mismatches = rollup_mismatches_against_events(conn, Granularity.DAILY, window.start, window.end)
    return _mismatch_result(mismatches, window, "the raw events of its day")
