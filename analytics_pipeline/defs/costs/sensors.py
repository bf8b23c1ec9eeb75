"""``focus_export_sensor``: reload a billing period's days when its FOCUS export changes."""

import hashlib
from datetime import date, timedelta

import dagster as dg

from analytics_pipeline.costs.focus import BILLING_PERIOD_PREFIX
from analytics_pipeline.costs.infra_costs import CostSource
from analytics_pipeline.defs.costs.jobs import cost_attribution_job
from analytics_pipeline.defs.costs.schedules import range_request
from analytics_pipeline.defs.resources import ClockResource, ObjectStorageResource
from analytics_pipeline.defs.shared import described_sensor


def recent_billing_periods(today: date) -> list[date]:
    """The previous and the current billing period (AWS keeps re-delivering last month's for days)."""
    current = today.replace(day=1)
    return [(current - timedelta(days=1)).replace(day=1), current]


@described_sensor(job=cost_attribution_job, minimum_interval_seconds=3600,
           default_status=dg.DefaultSensorStatus.STOPPED)
def focus_export_sensor(context: dg.SensorEvaluationContext, object_storage: ObjectStorageResource,
                        clock: ClockResource):
    """When the FOCUS export of the previous or current billing period changes (an object
    added, rewritten or removed under `BILLING_PERIOD=YYYY-MM/`), reload and re-attribute that
    period's days up to today in one run from the FOCUS source. Lists only those two
    prefixes; the run key is the period plus its objects' keys and etags, so an unchanged
    export never runs twice. Off by default: turn it on when FOCUS exports are the source
    and they are revised after the daily refresh's 3-day window (e.g. month-end finalisation)."""
    store = object_storage.focus_costs()
    today = clock.now().date()
    requests = []
    for period in recent_billing_periods(today):
        objects = [o for o in store.list(BILLING_PERIOD_PREFIX.format(month=period))
                   if o.key.endswith((".csv", ".csv.gz"))]
        if not objects:
            continue
        fingerprint = hashlib.sha256("\n".join(f"{o.key} {o.etag}" for o in objects).encode()).hexdigest()[:16]
        last_day = min((period + timedelta(days=32)).replace(day=1) - timedelta(days=1), today)
        requests.append(range_request(period, last_day, run_key=f"focus:{period:%Y-%m}:{fingerprint}",
                                      run_config={"ops": {"daily_infra_costs": {"config": {
                                          "source": CostSource.focus.name}}}}))
    if not requests:
        periods = ", ".join(f"{p:%Y-%m}" for p in recent_billing_periods(today))
        return dg.SkipReason(f"no FOCUS export objects for {periods} under {store.url}")
    return requests
