"""Ingestion: log objects -> ``raw_usage_events``, the sensor that finds new objects, the
quality checks of each delivery hour, the daily expectation suite and the freshness schedule."""

import dagster as dg

from analytics_pipeline.defs.ingestion.assets import raw_usage_events
from analytics_pipeline.defs.ingestion.checks import (
    delivery_hour_checks,
    raw_events_meet_expectations,
)
from analytics_pipeline.defs.ingestion.freshness import raw_events_are_fresh
from analytics_pipeline.defs.ingestion.jobs import (
    freshness_checks_job,
    raw_events_expectations_job,
    raw_usage_events_job,
)
from analytics_pipeline.defs.ingestion.schedules import freshness_checks_schedule, raw_events_expectations_schedule
from analytics_pipeline.defs.ingestion.sensors import usage_log_sensor

defs = dg.Definitions(
    assets=[raw_usage_events],
    asset_checks=[delivery_hour_checks, raw_events_meet_expectations,
                  raw_events_are_fresh],
    jobs=[raw_usage_events_job, raw_events_expectations_job, freshness_checks_job],
    schedules=[raw_events_expectations_schedule, freshness_checks_schedule],
    sensors=[usage_log_sensor],
)
