"""``retention_schedule``: the retention job every day, against the tick's clock."""

import dagster as dg

from analytics_pipeline.defs.retention.jobs import retention_job
from analytics_pipeline.defs.shared import described_schedule


@described_schedule(job=retention_job, cron_schedule="30 4 * * *", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.RUNNING)
def retention_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Every day at 04:30 UTC (after the night's rollups, before the 06:00 cost refresh): apply
    the retention periods as of the scheduled time, so a late or re-evaluated tick decides
    exactly as an on-time one; one run per day (run key)."""
    tick = context.scheduled_execution_time
    return dg.RunRequest(run_key=f"retention-{tick:%Y-%m-%d}", run_config={"dry_run": False, "as_of": tick.isoformat()})
