"""``monthly_exports_job_schedule``: on the 1st of each month, export the month before."""

import dagster as dg

from analytics_pipeline.defs.exports.jobs import monthly_exports_job

monthly_exports_job_schedule = dg.build_schedule_from_partitioned_job(
    monthly_exports_job,
    hour_of_day=2,  # leaves the last hours of the month time to arrive and be rolled up
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="On the 1st at 02:00 UTC, the previous month's finance exports: one CSV and manifest per "
                "organization, each reconciled against the hourly rollups before it is written.",
)
