"""Build telemetry: CI run files -> analytics_ci_runs -> daily duration trends, with
regression and budget checks, and the sensor that loads new files."""

import dagster as dg

from analytics_pipeline.defs.build_metrics.assets import ci_build_runs, ci_duration_trends
from analytics_pipeline.defs.build_metrics.checks import ci_duration_budget, ci_duration_regression
from analytics_pipeline.defs.build_metrics.jobs import build_metrics_job
from analytics_pipeline.defs.build_metrics.sensors import build_metrics_sensor

defs = dg.Definitions(
    assets=[ci_build_runs, ci_duration_trends],
    asset_checks=[ci_duration_regression, ci_duration_budget],
    jobs=[build_metrics_job],
    sensors=[build_metrics_sensor],
)
