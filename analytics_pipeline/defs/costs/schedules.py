"""The cost schedules: daily reload of revisable days, month to date, month close."""

from datetime import date, datetime, timedelta

import dagster as dg

from analytics_pipeline.defs.costs.jobs import (
    cost_attribution_job,
    month_to_date_profitability_job,
    monthly_profitability_job,
)
from analytics_pipeline.defs.shared import described_schedule, range_tags

#: Cost Explorer (and FOCUS exports) keep revising the most recent days.
REVISION_DAYS = 3


def revision_window(moment: datetime, days: int = REVISION_DAYS) -> tuple[date, date]:
    """The first and last of the ``days`` complete UTC days before ``moment``."""
    today = moment.date()
    return today - timedelta(days=days), today - timedelta(days=1)


def range_request(first: date, last: date, run_key: str | None = None, run_config: dict | None = None,
                  ) -> dg.RunRequest:
    """One run over the daily partitions ``first..last`` (the assets backfill in a single run)."""
    return dg.RunRequest(run_key=run_key, run_config=run_config or {},
                         tags=range_tags(first.isoformat(), last.isoformat()))


@described_schedule(job=cost_attribution_job, cron_schedule="0 6 * * *", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.RUNNING)
def daily_cost_refresh_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Every day at 06:00 UTC, reload the infrastructure costs of the last 3 complete days
    (Cost Explorer revises recent days and flags them Estimated) and attribute them again,
    in one run; the budget check then evaluates the month to date through yesterday."""
    first, last = revision_window(context.scheduled_execution_time)
    return range_request(first, last, run_key=f"{first}..{last}")


@described_schedule(job=month_to_date_profitability_job, cron_schedule="0 7 * * *", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.RUNNING)
def month_to_date_profitability_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Every day at 07:00 UTC, after the cost refresh: the month-to-date profitability."""
    as_of = context.scheduled_execution_time.date().isoformat()
    return dg.RunRequest(run_key=as_of, run_config={
        "ops": {"tenant_profitability_month_to_date": {"config": {"as_of": as_of}}}})


# Day 4: the month's last days have been through the 3-day revision window by then.
monthly_profitability_schedule = dg.build_schedule_from_partitioned_job(
    monthly_profitability_job, day_of_month=REVISION_DAYS + 1, hour_of_day=8,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="On the 4th at 08:00 UTC, the previous month's tenant profitability, once its last days have "
                "been through the cost revision window.")
