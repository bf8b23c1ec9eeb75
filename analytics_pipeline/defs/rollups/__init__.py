"""Rollups: the price catalog, hourly and daily usage rollups and endpoint performance, their
reconciliation, freshness and anomaly checks, and the sensors that restate them."""

import dagster as dg

from analytics_pipeline.defs.rollups.anomaly_checks import usage_within_normal_range
from analytics_pipeline.defs.rollups.assets import (
    daily_usage_rollups,
    endpoint_performance_rollups,
    hourly_usage_rollups,
    model_prices,
)
from analytics_pipeline.defs.rollups.checks import (
    daily_rollups_equal_sum_of_hours,
    daily_rollups_match_raw_events,
    hourly_rollups_are_fresh,
    hourly_rollups_match_raw_events,
)
from analytics_pipeline.defs.rollups.jobs import daily_rollups_job, hourly_rollups_job, model_prices_job
from analytics_pipeline.defs.rollups.sensors import (
    daily_rollups_follow_hours_sensor,
    live_ingestion_restatement_sensor,
    price_catalog_sensor,
    usage_rollup_restatement_sensor,
)

defs = dg.Definitions(
    assets=[model_prices, hourly_usage_rollups, daily_usage_rollups, endpoint_performance_rollups],
    asset_checks=[hourly_rollups_match_raw_events, daily_rollups_equal_sum_of_hours, daily_rollups_match_raw_events,
                  hourly_rollups_are_fresh, usage_within_normal_range],
    jobs=[hourly_rollups_job, daily_rollups_job, model_prices_job],
    sensors=[usage_rollup_restatement_sensor, live_ingestion_restatement_sensor, daily_rollups_follow_hours_sensor,
             price_catalog_sensor],
)
