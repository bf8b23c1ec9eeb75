"""Exports: the monthly finance CSVs of every organization, and ad hoc export jobs."""

import dagster as dg

from analytics_pipeline.defs.exports.assets import monthly_usage_exports
from analytics_pipeline.defs.exports.jobs import export_job, monthly_exports_job
from analytics_pipeline.defs.exports.schedules import monthly_exports_job_schedule
from analytics_pipeline.defs.exports.sensors import export_request_sensor

defs = dg.Definitions(
    assets=[monthly_usage_exports],
    jobs=[monthly_exports_job, export_job],
    schedules=[monthly_exports_job_schedule],
    sensors=[export_request_sensor],
)
