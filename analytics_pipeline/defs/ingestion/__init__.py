"""Ingestion: log objects -> ``raw_usage_events``, the sensor that finds new objects, the
quality checks of each delivery hour, and the pipeline's freshness schedule."""

import dagster as dg

from analytics_pipeline.defs.ingestion.assets import raw_usage_events
from analytics_pipeline.defs.ingestion.checks import (
    ingest_ledger_adds_up,
    quarantine_rate_within_bounds,
    raw_events_meet_expectations,
)
from analytics_pipeline.defs.ingestion.freshness import raw_events_are_fresh
from analytics_pipeline.defs.ingestion.jobs import freshness_checks_job
from analytics_pipeline.defs.ingestion.schedules import freshness_checks_schedule
from analytics_pipeline.defs.ingestion.sensors import usage_log_sensor

defs = dg.Definitions(
    assets=[raw_usage_events],
    asset_checks=[ingest_ledger_adds_up, quarantine_rate_within_bounds, raw_events_meet_expectations,
                  raw_events_are_fresh],
    jobs=[freshness_checks_job],
    schedules=[freshness_checks_schedule],
    sensors=[usage_log_sensor],
)
