"""Data-quality checks of raw_usage_events: quarantine rate and ledger reconciliation."""

import dagster as dg

from analytics_pipeline.defs.ingestion.assets import raw_usage_events
from analytics_pipeline.defs.partitions import hourly_partitions
from analytics_pipeline.defs.resources import WarehouseResource
from analytics_pipeline.ingestion.quality import ledger_totals
from analytics_pipeline.settings import load_settings


def _window_metadata(window: dg.TimeWindow, totals) -> dict:
    return {"window_start": window.start.isoformat(), "window_end": window.end.isoformat(),
            "objects": totals.objects, "lines_read": totals.lines_read, "accepted": totals.accepted,
            "duplicates": totals.duplicates, "quarantined": totals.quarantined}


@dg.asset_check(asset=raw_usage_events, partitions_def=hourly_partitions)
def quarantine_rate_within_bounds(context: dg.AssetCheckExecutionContext,
                                  warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Share of lines quarantined among the lines of the objects delivered in the partition:
    warns above `ANALYTICS_QUARANTINE_WARN_RATE` (default 0.1%), fails above
    `ANALYTICS_QUARANTINE_FAIL_RATE` (default 1%)."""
    settings = load_settings()
    window = context.partition_time_window
    with warehouse.connect() as conn:
        totals = ledger_totals(conn, window.start, window.end)
    rate = totals.quarantine_rate
    passed = rate <= settings.quarantine_fail_rate
    severity = dg.AssetCheckSeverity.ERROR if not passed else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(
        passed=passed and rate <= settings.quarantine_warn_rate,
        severity=severity,
        description=f"{rate:.3%} of {totals.lines_read:,} lines quarantined "
                    f"(warn above {settings.quarantine_warn_rate:.2%}, fail above {settings.quarantine_fail_rate:.2%})",
        metadata={**_window_metadata(window, totals), "quarantine_rate": rate},
    )


@dg.asset_check(asset=raw_usage_events, partitions_def=hourly_partitions, blocking=True)
def ingest_ledger_adds_up(context: dg.AssetCheckExecutionContext,
                          warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """For the objects delivered in the partition: lines read = accepted + duplicates +
    quarantined, and the ledger's accepted and quarantined counts equal the event and
    quarantine rows actually stored for those objects. Nothing lost, nothing counted twice."""
    window = context.partition_time_window
    with warehouse.connect() as conn:
        totals = ledger_totals(conn, window.start, window.end)
    return dg.AssetCheckResult(
        passed=totals.adds_up,
        description="ledger, events and quarantine agree" if totals.adds_up else
        f"ledger says {totals.accepted:,} accepted / {totals.quarantined:,} quarantined; warehouse holds "
        f"{totals.stored_events:,} events / {totals.stored_quarantine_rows:,} quarantine rows; "
        f"{totals.objects_not_adding_up} objects whose lines do not add up",
        metadata={**_window_metadata(window, totals), "stored_events": totals.stored_events,
                  "stored_quarantine_rows": totals.stored_quarantine_rows,
                  "objects_not_adding_up": totals.objects_not_adding_up},
    )
