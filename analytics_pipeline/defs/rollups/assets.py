"""Model prices and the hourly and daily usage rollups."""

from datetime import timedelta

import dagster as dg

from analytics_pipeline.defs.resources import WarehouseResource
from analytics_pipeline.defs.rollups.resources import RollupSettings
from analytics_pipeline.defs.shared import (
    NETWORK_RETRY,
    RAW_USAGE_EVENTS,
    daily_partitions,
    hourly_partitions,
    partition_figures,
    partition_windows,
    window_metadata,
)
from analytics_pipeline.rollups.pricing import catalog_digest, parse_catalog, read_catalog_text, replace_model_prices
from analytics_pipeline.rollups.usage import (
    Granularity,
    MissingPriceError,
    RawEventsDroppedError,
    RollupTotals,
    replace_endpoint_rollups,
    replace_usage_rollups_by_day,
    rollup_totals,
)
from analytics_pipeline.settings import current_settings

CATALOG_DIGEST = "catalog_sha256"  # model_prices metadata: which catalog text is loaded
# Rollups may trail raw events by the restatement sensor's interval and their own run. The hourly
# thresholds are `hourly_rollups_are_fresh`'s (graded on the data, not a policy on run times: see
# RAW_FRESHNESS); the daily rollups, without a data check, keep a policy.
HOURLY_FRESHNESS = dg.FreshnessPolicy.time_window(
    warn_window=timedelta(minutes=current_settings().raw_freshness_warn_minutes + 30),
    fail_window=timedelta(minutes=current_settings().raw_freshness_fail_minutes + 60),
)
DAILY_FRESHNESS = dg.FreshnessPolicy.time_window(warn_window=timedelta(hours=26), fail_window=timedelta(hours=30))


@dg.asset(kinds={"postgres", "csv"}, group_name="usage", owners=["team:data-engineering"], retry_policy=NETWORK_RETRY)
def model_prices(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                 rollup_settings: RollupSettings) -> dg.MaterializeResult:
    """The effective-dated model price catalog (`analytics_model_prices`), loaded from the CSV
    shipped in the package or from `ANALYTICS_PRICE_CATALOG` (a path or URL). Model `*` prices
    requests of a missing or unlisted model. `price_catalog_sensor` loads it on a new
    deployment and again whenever the catalog's content changes; the hourly rollups refuse to
    price an event without a price in effect."""
    location = rollup_settings.price_catalog
    text = read_catalog_text(location)
    prices = parse_catalog(text)
    with warehouse.connect() as conn, conn.transaction():
        replace_model_prices(conn, prices)
    models = sorted({p.model_id for p in prices})
    return dg.MaterializeResult(metadata={
        "source": location or "shipped price_catalog.csv",
        CATALOG_DIGEST: catalog_digest(text),
        "price_rows": len(prices),
        "models": len(models),
        "catalog": dg.MetadataValue.md(
            "| model | from | per request | per 1k in | per 1k out |\n|---|---|---|---|---|\n" + "\n".join(
                f"| {p.model_id} | {p.effective_from.isoformat()} | {p.price_per_request} | "
                f"{p.price_per_1k_input_tokens} | {p.price_per_1k_output_tokens} |" for p in prices)),
    })


def _rollup_metadata(window: dg.TimeWindow, totals: RollupTotals) -> dict:
    return {
        **window_metadata(window),
        "dagster/row_count": totals.row_count,
        "organizations": totals.organizations,
        "request_count": totals.request_count,
        "tokens_total": totals.tokens_total,
        "error_count": totals.error_count,
        "cost_total": float(totals.cost_total),
    }


def _each_partition_figures(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                            partitions_def: dg.TimeWindowPartitionsDefinition, granularity: Granularity,
                            run_totals: RollupTotals) -> None:
    """Each partition's own rollup totals on its materialization; the run's, logged once."""
    with warehouse.connect() as conn:
        partition_figures(context, {
            key: _rollup_metadata(window, rollup_totals(conn, granularity, window.start, window.end))
            for key, window in partition_windows(context, partitions_def)},
            run_totals=_rollup_metadata(context.partition_time_window, run_totals))


def _replace(warehouse: WarehouseResource, settings: RollupSettings, granularity: Granularity,
             window: dg.TimeWindow) -> RollupTotals:
    try:
        return replace_usage_rollups_by_day(warehouse.connect, granularity, window.start, window.end,
                                            workers=settings.workers, work_mem=settings.work_mem)
    except RawEventsDroppedError as error:
        raise _dropped_failure(error) from None
    except MissingPriceError as error:
        # Never a cost of 0 for an event without a price: fail clearly, without retrying.
        raise dg.Failure(description=str(error), allow_retries=False, metadata={
            "unpriced_models": [model or "(no model)" for model, _, _ in error.unpriced[:50]],
            "unpriced_events": sum(count for *_, count in error.unpriced)}) from None


def _dropped_failure(error: RawEventsDroppedError) -> dg.Failure:
    # A clear failure that is not retried: the raw events will not come back.
    return dg.Failure(description=str(error), allow_retries=False,
                      metadata={"dropped_days": [day.isoformat() for day in error.days]})


#: What the hourly and daily usage rollups share: a backfill range is one run, in the usage group.
USAGE_ROLLUP = {"backfill_policy": dg.BackfillPolicy.single_run(), "kinds": {"postgres"}, "group_name": "usage",
                "owners": ["team:data-engineering"]}


@dg.asset(partitions_def=hourly_partitions, deps=[RAW_USAGE_EVENTS, model_prices], **USAGE_ROLLUP)
def hourly_usage_rollups(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                         rollup_settings: RollupSettings) -> dg.MaterializeResult:
    """Usage per (hour, organization, model) in `analytics_hourly_rollups`, by *event* time:
    requests, input/output/total tokens, errors (4xx, 5xx), cost at the effective price,
    exact latency p50/p95/p99 in ms and a mergeable latency sketch (rollups/latency.py). A
    partition is replaced in one transaction; a backfill range day by day on
    `ANALYTICS_ROLLUP_WORKERS` connections; late events restate the hours they fall in.
    Cost is priced per (hour, model) group: catalog price changes are on the hour."""
    totals = _replace(warehouse, rollup_settings, Granularity.HOURLY, context.partition_time_window)
    _each_partition_figures(context, warehouse, hourly_partitions, Granularity.HOURLY, totals)
    return dg.MaterializeResult()


@dg.asset(partitions_def=daily_partitions, deps=[hourly_usage_rollups], freshness_policy=DAILY_FRESHNESS,
          **USAGE_ROLLUP)
def daily_usage_rollups(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                        rollup_settings: RollupSettings) -> dg.MaterializeResult:
    """Usage per (day, organization, model) in `analytics_daily_rollups`, the same measures as
    the hourly rollups: additive measures (requests, tokens, errors, cost) are the sums of the
    day's hourly rows; the latency sketch is the hours' sketches merged, and the daily p50/p95/p99
    are read off it (true daily percentiles within 1 %, not averages of hourly ones; no raw event
    is read)."""
    totals = _replace(warehouse, rollup_settings, Granularity.DAILY, context.partition_time_window)
    _each_partition_figures(context, warehouse, daily_partitions, Granularity.DAILY, totals)
    return dg.MaterializeResult()


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[RAW_USAGE_EVENTS],
    kinds={"postgres"},
    group_name="performance",
    owners=["team:sre"],
)
def endpoint_performance_rollups(context: dg.AssetExecutionContext,
                                 warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Per (day, organization, endpoint) performance for SRE in
    `analytics_endpoint_daily_rollups`: requests, errors by type (4xx, 5xx, 429), latency
    p50/p95/p99 and queue wait (mean, p95), exact percentiles from the raw events."""
    window = context.partition_time_window
    try:
        with warehouse.connect() as conn:
            summary = replace_endpoint_rollups(conn, window.start, window.end)
    except RawEventsDroppedError as error:
        raise _dropped_failure(error) from None
    return dg.MaterializeResult(metadata={
        **window_metadata(window),
        "rows": summary.row_count,
        "endpoints": summary.endpoints,
        "request_count": summary.request_count,
        "server_error_count": summary.server_error_count,
        "worst_p99_ms": summary.worst_p99_ms,
    })
