"""Cost jobs and their schedules: daily reload of revisable days, month to date, month close."""

from datetime import date, datetime, timedelta

import dagster as dg

from analytics_pipeline.defs.costs.assets import (
    daily_infra_costs,
    tenant_cost_attribution,
    tenant_profitability,
    tenant_profitability_month_to_date,
)
from analytics_pipeline.defs.rollups.sensors import RANGE_END_TAG, RANGE_START_TAG

#: Cost Explorer (and FOCUS exports) keep revising the most recent days.
REVISION_DAYS = 3

cost_attribution_job = dg.define_asset_job(
    "cost_attribution_job", selection=[daily_infra_costs, tenant_cost_attribution],
    description="Load the infrastructure costs of a range of days and attribute them to tenants (with checks).")
monthly_profitability_job = dg.define_asset_job(
    "monthly_profitability_job", selection=[tenant_profitability],
    description="Per-tenant revenue, attributed cost and margin of complete months.")
month_to_date_profitability_job = dg.define_asset_job(
    "month_to_date_profitability_job", selection=[tenant_profitability_month_to_date],
    description="Per-tenant revenue, attributed cost and margin of the current month so far.")


def revision_window(moment: datetime, days: int = REVISION_DAYS) -> tuple[date, date]:
    """The first and last of the ``days`` complete UTC days before ``moment``."""
    today = moment.date()
    return today - timedelta(days=days), today - timedelta(days=1)


def range_request(first: date, last: date, run_key: str | None = None, run_config: dict | None = None,
                  ) -> dg.RunRequest:
    """One run over the daily partitions ``first..last`` (the assets backfill in a single run)."""
    return dg.RunRequest(run_key=run_key, run_config=run_config or {},
                         tags={RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()})


@dg.schedule(job=cost_attribution_job, cron_schedule="0 6 * * *", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.RUNNING)
def daily_cost_refresh_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Every day at 06:00 UTC, reload the infrastructure costs of the last 3 complete days
    (Cost Explorer revises recent days and flags them Estimated) and attribute them again,
    in one run; the budget check then evaluates the month to date through yesterday."""
    first, last = revision_window(context.scheduled_execution_time)
    return range_request(first, last, run_key=f"{first}..{last}")


@dg.schedule(job=month_to_date_profitability_job, cron_schedule="0 7 * * *", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.RUNNING)
def month_to_date_profitability_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Every day at 07:00 UTC, after the cost refresh: the month-to-date profitability."""
    as_of = context.scheduled_execution_time.date().isoformat()
    return dg.RunRequest(run_key=as_of, run_config={
        "ops": {"tenant_profitability_month_to_date": {"config": {"as_of": as_of}}}})


# Day 4: the month's last days have been through the 3-day revision window by then.
monthly_profitability_schedule = dg.build_schedule_from_partitioned_job(
    monthly_profitability_job, day_of_month=REVISION_DAYS + 1, hour_of_day=8,
    default_status=dg.DefaultScheduleStatus.RUNNING)
