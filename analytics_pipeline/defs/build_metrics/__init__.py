"""Dagster wiring of CI build telemetry (issue 7): run files -> analytics_ci_runs -> daily
duration trends, with regression and budget checks, and the sensor that loads new files."""

from analytics_pipeline.defs.build_metrics.assets import ci_build_runs, ci_duration_trends
from analytics_pipeline.defs.build_metrics.checks import ci_duration_budget, ci_duration_regression
from analytics_pipeline.defs.build_metrics.jobs import build_metrics_job
from analytics_pipeline.defs.build_metrics.sensors import build_metrics_sensor

BUILD_METRICS_ASSETS = [ci_build_runs, ci_duration_trends]
BUILD_METRICS_CHECKS = [ci_duration_regression, ci_duration_budget]
BUILD_METRICS_SENSORS = [build_metrics_sensor]
BUILD_METRICS_JOBS = [build_metrics_job]
