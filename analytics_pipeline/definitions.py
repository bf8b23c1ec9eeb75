"""The Dagster definitions of analytics_pipeline (``analytics_pipeline.definitions:defs``)."""

import dagster as dg

from analytics_pipeline.defs.alerts import ALERT_SENSORS
from analytics_pipeline.defs.build_metrics import (
    BUILD_METRICS_ASSETS,
    BUILD_METRICS_CHECKS,
    BUILD_METRICS_JOBS,
    BUILD_METRICS_SENSORS,
)
from analytics_pipeline.defs.costs import (
    COST_ASSETS,
    COST_CHECKS,
    COST_JOBS,
    COST_SCHEDULES,
    COST_SENSORS,
)
from analytics_pipeline.defs.exports.assets import monthly_usage_exports
from analytics_pipeline.defs.exports.jobs import export_job
from analytics_pipeline.defs.exports.schedules import monthly_export_schedule, monthly_exports_job
from analytics_pipeline.defs.ingestion.assets import raw_usage_events
from analytics_pipeline.defs.ingestion.checks import (
    ingest_ledger_adds_up,
    quarantine_rate_within_bounds,
    raw_events_meet_expectations,
)
from analytics_pipeline.defs.ingestion.freshness import (
    FRESHNESS_CHECKS,
    freshness_checks_job,
    freshness_checks_schedule,
)
from analytics_pipeline.defs.ingestion.sensors import usage_log_sensor
from analytics_pipeline.defs.resources import default_resources
from analytics_pipeline.defs.retention import RETENTION_JOBS, RETENTION_SCHEDULES
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
    hourly_rollups_match_raw_events,
)
from analytics_pipeline.defs.rollups.sensors import (
    daily_rollups_follow_hours_sensor,
    daily_rollups_job,
    hourly_rollups_job,
    usage_rollup_restatement_sensor,
)

defs = dg.Definitions(
    assets=[raw_usage_events, model_prices, hourly_usage_rollups, daily_usage_rollups, endpoint_performance_rollups,
            monthly_usage_exports, *COST_ASSETS, *BUILD_METRICS_ASSETS],
    asset_checks=[ingest_ledger_adds_up, quarantine_rate_within_bounds, raw_events_meet_expectations,
                  *FRESHNESS_CHECKS, hourly_rollups_match_raw_events,
                  daily_rollups_equal_sum_of_hours, daily_rollups_match_raw_events, usage_within_normal_range,
                  *COST_CHECKS, *BUILD_METRICS_CHECKS],
    jobs=[monthly_exports_job, export_job, hourly_rollups_job, daily_rollups_job, freshness_checks_job, *COST_JOBS,
          *BUILD_METRICS_JOBS, *RETENTION_JOBS],
    schedules=[monthly_export_schedule, freshness_checks_schedule, *COST_SCHEDULES, *RETENTION_SCHEDULES],
    sensors=[usage_log_sensor, usage_rollup_restatement_sensor, daily_rollups_follow_hours_sensor, *COST_SENSORS,
             *BUILD_METRICS_SENSORS, *ALERT_SENSORS],
    resources=default_resources(),
)
