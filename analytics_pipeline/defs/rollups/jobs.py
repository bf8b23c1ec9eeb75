"""The rollup jobs, one per partitioning: a run (and so a single-run range) covers one
partitions definition; and the price catalog's load."""

import dagster as dg

from analytics_pipeline.defs.rollups.assets import (
    daily_usage_rollups,
    endpoint_performance_rollups,
    hourly_usage_rollups,
    model_prices,
)

hourly_rollups_job = dg.define_asset_job(
    "hourly_rollups_job", selection=[hourly_usage_rollups],
    description="Recompute hourly usage rollups (and their reconciliation check) for a range of hours.")
daily_rollups_job = dg.define_asset_job(
    "daily_rollups_job", selection=[daily_usage_rollups, endpoint_performance_rollups],
    description="Recompute the daily usage and endpoint performance rollups (and checks) for a range of days.")

model_prices_job = dg.define_asset_job(
    "model_prices_job", selection=[model_prices],
    description="Load the model price catalog into `analytics_model_prices` (what `price_catalog_sensor` "
                "launches when the catalog's content changes).")
