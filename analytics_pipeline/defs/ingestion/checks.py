"""Data-quality checks of raw_usage_events: what each delivery hour's run checks (the ledger adds
up, the quarantine rate, the contract's rules in one SQL pass), and the event contract as a Great
Expectations suite (daily, and on demand)."""

from datetime import datetime

import dagster as dg

from analytics_pipeline.defs.ingestion.assets import raw_usage_events
from analytics_pipeline.defs.ingestion.resources import IngestionSettings
from analytics_pipeline.defs.resources import ClockResource, RetentionSettings, WarehouseResource
from analytics_pipeline.defs.shared import check_each_partition, hourly_partitions, window_metadata
from analytics_pipeline.ingestion.expectations import RawEventsValidation, validate_raw_events
from analytics_pipeline.ingestion.quality import LedgerTotals, check_delivery_window, quarantine_kept_since


def _totals_metadata(window: dg.TimeWindow, totals) -> dict:
    return {**window_metadata(window), "objects": totals.objects, "lines_read": totals.lines_read,
            "accepted": totals.accepted, "duplicates": totals.duplicates, "quarantined": totals.quarantined}


INGEST_LEDGER_ADDS_UP = dg.AssetCheckKey(raw_usage_events.key, "ingest_ledger_adds_up")
QUARANTINE_RATE_WITHIN_BOUNDS = dg.AssetCheckKey(raw_usage_events.key, "quarantine_rate_within_bounds")
RAW_EVENTS_MEET_EXPECTATIONS = dg.AssetCheckKey(raw_usage_events.key, "raw_events_meet_expectations")
RAW_EVENTS_MEET_CONTRACT = dg.AssetCheckKey(raw_usage_events.key, "raw_events_meet_contract")

DELIVERY_HOUR_CHECK_SPECS = [
    dg.AssetCheckSpec(
        INGEST_LEDGER_ADDS_UP.name, asset=raw_usage_events, partitions_def=hourly_partitions, blocking=True,
        description="For the objects delivered in the partition: lines read = accepted + duplicates + quarantined, "
                    "and the ledger's accepted and quarantined counts equal the event and quarantine rows stored "
                    "for those objects. Nothing lost, nothing counted twice. What retention removed is not "
                    "compared (the lines must still add up): the quarantine rows of objects ingested longer ago than "
                    "`ANALYTICS_QUARANTINE_RETENTION_DAYS` less a day's margin, and the events of objects "
                    "with an event day whose partition retention dropped; the metadata counts the objects left out."),
    dg.AssetCheckSpec(
        QUARANTINE_RATE_WITHIN_BOUNDS.name, asset=raw_usage_events, partitions_def=hourly_partitions,
        description="Share of lines quarantined among the lines of the objects delivered in the partition: warns "
                    "above `ANALYTICS_QUARANTINE_WARN_RATE`, fails above `ANALYTICS_QUARANTINE_FAIL_RATE`."),
    dg.AssetCheckSpec(
        RAW_EVENTS_MEET_CONTRACT.name, asset=raw_usage_events, partitions_def=hourly_partitions,
        description="The rules of the Great Expectations suite (`raw_events_meet_expectations`) on the events of "
                    "the objects delivered in the partition, counted in one SQL pass: what each delivery hour's "
                    "run checks, in a few seconds per million events. The GX suite states the same rules as the "
                    "engine of record, daily over the previous day and on demand; a test keeps the two in "
                    "agreement rule for rule. An hour without events passes."),
]


@dg.multi_asset_check(specs=DELIVERY_HOUR_CHECK_SPECS, can_subset=True)
def delivery_hour_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource,
                         ingestion_settings: IngestionSettings, retention_settings: RetentionSettings,
                         clock: ClockResource):
    """The checks of each delivery hour of the run (one, or every hour of a range, each judged
    on its own): `ingest_ledger_adds_up` (blocking), `quarantine_rate_within_bounds` and
    `raw_events_meet_contract`, from the ledger and one pass over the hour's events (each can be
    selected alone). See `check_each_partition` for why a range yields one result per hour."""
    selected = context.selected_asset_check_keys
    kept_since = quarantine_kept_since(clock.now(), retention_settings.quarantine_retention_days)
    with warehouse.connect() as conn:
        def judge(hour: str, window: dg.TimeWindow) -> list[dg.AssetCheckResult]:
            checked = check_delivery_window(conn, window.start, window.end, kept_since,
                                            contract=RAW_EVENTS_MEET_CONTRACT in selected,
                                            retention_days=retention_settings.raw_retention_days)
            results = []
            if INGEST_LEDGER_ADDS_UP in selected:
                results.append(_ledger_result(window, checked.ledger, kept_since))
            if QUARANTINE_RATE_WITHIN_BOUNDS in selected:
                results.append(_quarantine_rate_result(window, checked.ledger, ingestion_settings))
            if RAW_EVENTS_MEET_CONTRACT in selected:
                results.append(_expectations_result(window, checked.contract, RAW_EVENTS_MEET_CONTRACT.name,
                                                    "sql_seconds"))
            return results

        yield from check_each_partition(context, hourly_partitions, judge)


def _quarantine_rate_result(window: dg.TimeWindow, totals: LedgerTotals,
                            ingestion_settings: IngestionSettings) -> dg.AssetCheckResult:
    warn_rate, fail_rate = ingestion_settings.quarantine_warn_rate, ingestion_settings.quarantine_fail_rate
    rate = totals.quarantine_rate
    passed = rate <= fail_rate
    return dg.AssetCheckResult(
        check_name=QUARANTINE_RATE_WITHIN_BOUNDS.name,
        passed=passed and rate <= warn_rate,
        severity=dg.AssetCheckSeverity.ERROR if not passed else dg.AssetCheckSeverity.WARN,
        description=f"{rate:.3%} of {totals.lines_read:,} lines quarantined "
                    f"(warn above {warn_rate:.2%}, fail above {fail_rate:.2%})",
        metadata={**_totals_metadata(window, totals), "quarantine_rate": rate},
    )


def _ledger_result(window: dg.TimeWindow, totals: LedgerTotals, kept_since: datetime) -> dg.AssetCheckResult:
    excluded = []
    if totals.objects_past_quarantine_retention:
        excluded.append(f"quarantine rows of {totals.objects_past_quarantine_retention:,} objects ingested before "
                        f"{kept_since:%Y-%m-%d %H:%M} UTC (quarantine retention)")
    if totals.objects_with_dropped_days:
        excluded.append(f"events of {totals.objects_with_dropped_days:,} objects with an event day dropped by "
                        "raw retention")
    if totals.adds_up:
        description = "ledger, events and quarantine agree"
    else:
        description = (f"ledger says {totals.accepted_compared:,} accepted / {totals.quarantined_compared:,} "
                       f"quarantined; warehouse holds {totals.stored_events:,} events / "
                       f"{totals.stored_quarantine_rows:,} quarantine rows; {totals.objects_not_adding_up} objects "
                       "whose lines do not add up")
    if excluded:
        description += "; not compared (removed by retention): " + ", ".join(excluded)
    return dg.AssetCheckResult(
        check_name=INGEST_LEDGER_ADDS_UP.name,
        passed=totals.adds_up,
        description=description,
        metadata={**_totals_metadata(window, totals), "stored_events": totals.stored_events,
                  "stored_quarantine_rows": totals.stored_quarantine_rows,
                  "objects_not_adding_up": totals.objects_not_adding_up,
                  "accepted_compared": totals.accepted_compared,
                  "quarantined_compared": totals.quarantined_compared,
                  "objects_excluded_events_dropped": totals.objects_with_dropped_days,
                  "objects_excluded_quarantine_expired": totals.objects_past_quarantine_retention,
                  "quarantine_compared_since": dg.MetadataValue.timestamp(kept_since)},
    )


def _expectations_description(validation: RawEventsValidation) -> str:
    if not validation.outcomes:
        return (f"no events delivered in this window ({validation.objects} objects in the ledger): "
                "nothing to check, passes")
    if validation.success:
        return f"all {validation.evaluated} expectations met by {validation.rows_checked:,} events"
    failures = ", ".join(
        f"{o.name} ({'error' if o.error else f'{o.unexpected_count or 0:,} rows'})"
        for o in validation.outcomes if not o.success)
    return (f"{validation.failed} of {validation.evaluated} expectations failed on "
            f"{validation.rows_checked:,} events: {failures}")


def _expectations_result(window: dg.TimeWindow, validation: RawEventsValidation, check_name: str,
                         seconds_name: str) -> dg.AssetCheckResult:
    metadata = {
        **window_metadata(window),
        "objects": validation.objects,
        "events_in_ledger": validation.events_in_ledger,
        "rows_checked": validation.rows_checked,
        "expectations_evaluated": validation.evaluated,
        "expectations_failed": validation.failed,
        "unexpected_rows": validation.unexpected_total,
        seconds_name: round(validation.seconds, 2),
    }
    if validation.outcomes:
        metadata["expectations"] = dg.MetadataValue.md(validation.markdown())
        metadata["unexpected_by_expectation"] = {o.name: o.unexpected_count for o in validation.outcomes
                                                 if o.unexpected_count}
    return dg.AssetCheckResult(check_name=check_name, passed=validation.success,
                               description=_expectations_description(validation), metadata=metadata)


@dg.asset_check(asset=raw_usage_events, partitions_def=hourly_partitions)
def raw_events_meet_expectations(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource,
                                 retention_settings: RetentionSettings):
    """The event contract as a Great Expectations suite on the events of the objects delivered
    in the partition (or range), every metric computed by PostgreSQL: ids present and well
    formed, (organization_id, request_id) unique, event time within the contract's window of its
    delivery hour (retention `ANALYTICS_RAW_RETENTION_DAYS` before, 1 h + 1 day of clock skew
    after), status codes 100-599, durations and tokens >= 0, MD5 content hashes, JSON-object
    attributes. Evaluated daily over the previous day's delivery hours
    (`raw_events_expectations_schedule`), by backfills, and on demand; each delivery hour's own run
    checks the same rules in one SQL query (`raw_events_meet_contract`). An hour without events passes.

    A range is validated once (a GX validation costs about a second however few its rows): every
    rule holds row by row or over a set of rows (uniqueness), so a range that meets them all has
    every hour meet them, and each hour gets that verdict, naming the range. A range that fails is
    validated again hour by hour, so only the hours that break the contract fail."""
    hours = context.partition_keys
    retention_days = retention_settings.raw_retention_days
    whole = context.partition_time_window
    validation = validate_raw_events(warehouse.url(), whole.start, whole.end, retention_days=retention_days)
    name = RAW_EVENTS_MEET_EXPECTATIONS.name

    def judge(hour: str, window: dg.TimeWindow) -> dg.AssetCheckResult:
        if len(hours) == 1:
            return _expectations_result(window, validation, name, "gx_seconds")
        if validation.success:
            return dg.AssetCheckResult(
                check_name=name, passed=True,
                description=f"judged with the range {hours[0]} to {hours[-1]}: "
                            + _expectations_description(validation),
                metadata={**window_metadata(window), "judged_with_range": f"{hours[0]} to {hours[-1]}",
                          "range_rows_checked": validation.rows_checked,
                          "expectations_evaluated": validation.evaluated, "expectations_failed": 0})
        own = validate_raw_events(warehouse.url(), window.start, window.end, retention_days=retention_days)
        return _expectations_result(window, own, name, "gx_seconds")

    yield from check_each_partition(context, hourly_partitions, judge)
