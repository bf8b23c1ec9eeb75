"""The month close of the revenue metrics."""

import dagster as dg

from analytics_pipeline.defs.metrics.jobs import monthly_metrics_job

# Day 4 at 09:00 UTC: after the month's last days have been restated (and the cost month closed at 08:00).
monthly_metrics_schedule = dg.build_schedule_from_partitioned_job(
    monthly_metrics_job, day_of_month=4, hour_of_day=9, default_status=dg.DefaultScheduleStatus.RUNNING,
    description="On the 4th at 09:00 UTC, the previous month's revenue and top customers, after its last days "
                "have been restated and the cost month closed.")
