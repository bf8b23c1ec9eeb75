"""Metrics: active users and customers, feature adoption, customer health, month-end forecasts
(daily), revenue, MRR and top customers (monthly), endpoint, agent, tool and session metrics
(hourly), their checks, and the sensors that keep them in step with the rollups and raw events."""

import dagster as dg

from analytics_pipeline.defs.metrics.assets import METRICS_ASSETS
from analytics_pipeline.defs.metrics.checks import (
    activity_matches_rollups,
    dau_within_wau_within_mau,
    every_active_organization_has_a_health_score,
    forecast_backtest_within_bound,
)
from analytics_pipeline.defs.metrics.jobs import (
    daily_metrics_job,
    monthly_metrics_job,
    session_concurrency_job,
    sre_metrics_job,
)
from analytics_pipeline.defs.metrics.schedules import monthly_metrics_schedule
from analytics_pipeline.defs.metrics.sensors import daily_metrics_follow_rollups_sensor, sre_metrics_restatement_sensor

defs = dg.Definitions(
    assets=METRICS_ASSETS,
    asset_checks=[activity_matches_rollups, dau_within_wau_within_mau, every_active_organization_has_a_health_score,
                  forecast_backtest_within_bound],
    jobs=[daily_metrics_job, monthly_metrics_job, sre_metrics_job, session_concurrency_job],
    schedules=[monthly_metrics_schedule],
    sensors=[daily_metrics_follow_rollups_sensor, sre_metrics_restatement_sensor],
)
