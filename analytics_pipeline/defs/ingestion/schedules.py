"""The ingestion domain's schedules: the daily Great Expectations suite, and freshness every 15 minutes."""

from datetime import timedelta

import dagster as dg

from analytics_pipeline.defs.ingestion.jobs import freshness_checks_job, raw_events_expectations_job
from analytics_pipeline.defs.shared import HOUR_KEY_FORMAT, described_schedule, range_tags

freshness_checks_schedule = dg.ScheduleDefinition(
    name="freshness_checks_schedule", job=freshness_checks_job, cron_schedule="*/15 * * * *",
    execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every 15 minutes: are the raw events and the hourly rollups fresh? (A stale pipeline "
                "runs nothing, so nothing else would notice.)")


@described_schedule(job=raw_events_expectations_job, cron_schedule="15 3 * * *", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.RUNNING)
def raw_events_expectations_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Every day at 03:15 UTC, the Great Expectations suite over the 24 delivery hours of the
    previous day, in one run (the late objects of the day have arrived by then); one run per day."""
    day = context.scheduled_execution_time.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    first, last = day, day + timedelta(hours=23)
    return dg.RunRequest(run_key=f"expectations-{day:%Y-%m-%d}",
                         tags=range_tags(first.strftime(HOUR_KEY_FORMAT), last.strftime(HOUR_KEY_FORMAT)))
