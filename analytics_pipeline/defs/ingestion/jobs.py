"""The ingestion domain's jobs: a delivery hour's run, the daily Great Expectations suite, and
the pipeline's freshness checks."""

import dagster as dg

from analytics_pipeline.defs.ingestion.assets import raw_usage_events
from analytics_pipeline.defs.ingestion.checks import (
    delivery_hour_checks,
    raw_events_meet_expectations,
)
from analytics_pipeline.defs.shared import FRESHNESS_CHECKS

raw_usage_events_job = dg.define_asset_job(
    "raw_usage_events_job",
    selection=dg.AssetSelection.assets(raw_usage_events).without_checks()
    | dg.AssetSelection.checks(delivery_hour_checks),
    description="Load a delivery hour's log objects (what usage_log_sensor launches), with the checks that judge "
                "the hour: the ledger adds up (blocking), the quarantine rate, the contract in one SQL query. The "
                "Great Expectations suite and the freshness checks have their own schedules.")

raw_events_expectations_job = dg.define_asset_job(
    "raw_events_expectations_job", selection=dg.AssetSelection.checks(raw_events_meet_expectations),
    description="The Great Expectations suite of the event contract over a range of delivery hours (no "
                "materialization).")

freshness_checks_job = dg.define_asset_job(
    "freshness_checks_job", selection=dg.AssetSelection.checks(*FRESHNESS_CHECKS),
    description="Evaluate the data freshness checks of the raw events and the hourly rollups (no materialization).")
