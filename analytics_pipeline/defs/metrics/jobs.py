"""The metrics jobs, one per partitioning (a run, and so a single-run range, covers one), and the
session concurrency apart: its restatements reach a day either side of the hours that changed."""

import dagster as dg

from analytics_pipeline.defs.metrics.assets import (
    DAILY_METRICS,
    HOURLY_SRE_METRICS,
    MONTHLY_METRICS,
    session_concurrency,
)

daily_metrics_job = dg.define_asset_job(
    "daily_metrics_job", selection=DAILY_METRICS,
    description="Activity, feature adoption, customer health and month-end forecasts (and checks) for a range "
                "of days.")
monthly_metrics_job = dg.define_asset_job(
    "monthly_metrics_job", selection=MONTHLY_METRICS,
    description="Revenue, MRR and top customers of complete months.")
sre_metrics_job = dg.define_asset_job(
    "sre_metrics_job", selection=HOURLY_SRE_METRICS,
    description="Hourly endpoint, error-type, agent and tool metrics for a range of hours.")
session_concurrency_job = dg.define_asset_job(
    "session_concurrency_job", selection=[session_concurrency],
    description="Peak concurrent sessions per organization for a range of hours.")
