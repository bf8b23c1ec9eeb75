"""``freshness_checks_schedule``: is the pipeline's data fresh? Every 15 minutes."""

import dagster as dg

from analytics_pipeline.defs.ingestion.jobs import freshness_checks_job

freshness_checks_schedule = dg.ScheduleDefinition(
    name="freshness_checks_schedule", job=freshness_checks_job, cron_schedule="*/15 * * * *",
    execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every 15 minutes: are the raw events and the hourly rollups fresh? (A stale pipeline "
                "runs nothing, so nothing else would notice.)")
