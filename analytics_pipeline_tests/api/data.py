"""Usage of January 2024 for the seed's organization and a neighbour, rolled up; and running
the pending export jobs the way the daemon does (a sensor tick, then each requested run)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import dagster as dg

from analytics_pipeline.defs.exports.jobs import export_job
from analytics_pipeline.defs.exports.sensors import export_request_sensor
from analytics_pipeline.defs.shared import EXPORT_JOB_ID_TAG
from analytics_pipeline.rollups.pricing import parse_catalog, replace_model_prices
from analytics_pipeline.rollups.usage import Granularity, replace_usage_rollups
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.api.conftest import NOW
from analytics_pipeline_tests.event_rows import insert_events
from analytics_pipeline_tests.resources import pipeline_resources

ORG = "123e4567-e89b-12d3-a456-426614174000"  # the seed's orgId
OTHER_ORG = "org-neighbour"
JANUARY, FEBRUARY = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)
MODEL = "550e8400-e29b-41d4-a716-446655440000"
CATALOG = f"""model_id,effective_from,price_per_request,price_per_1k_input_tokens,price_per_1k_output_tokens
{MODEL},2023-01-01T00:00:00Z,0.001,0.5,1.5
m2,2023-01-01T00:00:00Z,0.0003,0.07,0.21
*,2023-01-01T00:00:00Z,0.0001,0.1,0.2
"""


def january_events(seed: int = 3) -> list[tuple]:
    rng = random.Random(seed)
    events = []
    for org, per_day in ((ORG, 12), (OTHER_ORG, 5)):
        for day in range(31):
            for i in range(per_day):
                at = JANUARY + timedelta(days=day, hours=rng.randrange(24), minutes=rng.randrange(60))
                events.append((at, org, f"{org}-{day}-{i}", rng.choice([MODEL, "m2", None]),
                               rng.choice([200, 200, 200, 404, 503]), float(rng.randrange(1, 900)), None,
                               rng.randrange(0, 4000), rng.randrange(0, 2000)))
    # Just outside the month: never in January's exports.
    events.append((FEBRUARY, ORG, "february", MODEL, 200, 5.0, None, 100, 100))
    return events


EVENTS = january_events()


def load_january(warehouse_url: str) -> None:
    with connect(warehouse_url) as conn:
        with conn.transaction():
            replace_model_prices(conn, parse_catalog(CATALOG))
        insert_events(conn, EVENTS)
        for granularity in (Granularity.HOURLY, Granularity.DAILY):
            replace_usage_rollups(conn, granularity, JANUARY, FEBRUARY + timedelta(days=1))


def export_resources(warehouse_url: str, *, exports_url: str, s3_endpoint: str | None = None,
                     store_root: str | None = None, now: datetime = NOW) -> dict:
    return pipeline_resources(warehouse_url, store_root or exports_url.rsplit("/", 1)[0], s3_endpoint=s3_endpoint,
                              now=now, exports_url=exports_url)


def run_pending_exports(instance: dg.DagsterInstance, resources: dict) -> list[dg.ExecuteInProcessResult]:
    """One tick of export_request_sensor, then each run it requested, in process; like the
    daemon, a request whose run key (the job id) already has a run launches nothing."""
    sensor_resources = {name: resources[name] for name in ("warehouse", "clock")}
    with dg.build_sensor_context(instance=instance, resources=sensor_resources) as context:
        result = export_request_sensor(context)
    if isinstance(result, dg.SkipReason):
        return []
    outcomes = []
    for request in result.run_requests:
        if instance.get_runs(filters=dg.RunsFilter(tags={EXPORT_JOB_ID_TAG: request.run_key}), limit=1):
            continue
        outcomes.append(export_job.execute_in_process(run_config=request.run_config, tags=request.tags,
                                                      instance=instance, resources=resources, raise_on_error=False))
    return outcomes
