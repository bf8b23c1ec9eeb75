"""The metrics jobs, one per partitioning (a run, and so a single-run range, covers one), and the
session concurrency apart: its restatements reach a day either side of the hours that changed."""

import dagster as dg

from analytics_pipeline.defs.metrics.assets import (
    agent_hourly_metrics,
    customer_health,
    daily_activity,
    endpoint_hourly_metrics,
    feature_adoption,
    monthly_revenue,
    session_concurrency,
    top_customers,
    usage_forecasts,
)

daily_metrics_job = dg.define_asset_job(
    "daily_metrics_job", selection=[daily_activity, feature_adoption, customer_health, usage_forecasts],
    description="Activity, feature adoption, customer health and month-end forecasts (and checks) for a range "
                "of days.")
monthly_metrics_job = dg.define_asset_job(
    "monthly_metrics_job", selection=[monthly_revenue, top_customers],
    description="Revenue, MRR and top customers of complete months.")
sre_metrics_job = dg.define_asset_job(
    "sre_metrics_job", selection=[endpoint_hourly_metrics, agent_hourly_metrics],
    description="Hourly endpoint, error-type, agent and tool metrics for a range of hours.")
session_concurrency_job = dg.define_asset_job(
    "session_concurrency_job", selection=[session_concurrency],
    description="Peak concurrent sessions per organization for a range of hours.")
