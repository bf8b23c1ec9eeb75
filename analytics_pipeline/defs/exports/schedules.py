"""``monthly_export_schedule``: on the 1st of each month, export the month before."""

import dagster as dg

from analytics_pipeline.defs.exports.assets import monthly_usage_exports

monthly_exports_job = dg.define_asset_job(
    "monthly_exports_job",
    selection=[monthly_usage_exports],
    description="Finance CSV exports of one month, for every organization with usage.",
)

monthly_export_schedule = dg.build_schedule_from_partitioned_job(
    monthly_exports_job,
    hour_of_day=2,  # leaves the last hours of the month time to arrive and be rolled up
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
