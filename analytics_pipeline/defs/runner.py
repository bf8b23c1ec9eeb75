"""Run the pipeline for a month in-process: what the demo and the end-to-end tests execute.

Single-run materializations in dependency order: the price catalog; raw events and hourly
rollups over the hours; daily usage and endpoint rollups over the days; the monthly
exports; infrastructure costs and their attribution over the days; profitability per month.
"""

from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg

from analytics_pipeline.defs.build_metrics import BUILD_METRICS_ASSETS, BUILD_METRICS_CHECKS
from analytics_pipeline.defs.costs.assets import daily_infra_costs, tenant_cost_attribution, tenant_profitability
from analytics_pipeline.defs.costs.checks import attributed_cost_equals_infra_cost, tenant_budgets
from analytics_pipeline.defs.exports.assets import monthly_usage_exports
from analytics_pipeline.defs.ingestion.assets import raw_usage_events
from analytics_pipeline.defs.ingestion.checks import (
    ingest_ledger_adds_up,
    quarantine_rate_within_bounds,
    raw_events_meet_expectations,
)
from analytics_pipeline.defs.partitions import daily_partitions, hourly_partitions, monthly_partitions
from analytics_pipeline.defs.rollups.anomaly_checks import usage_within_normal_range
from analytics_pipeline.defs.rollups.assets import (
    daily_usage_rollups,
    endpoint_performance_rollups,
    hourly_usage_rollups,
    model_prices,
)
from analytics_pipeline.defs.rollups.checks import (
    daily_rollups_equal_sum_of_hours,
    daily_rollups_match_raw_events,
    hourly_rollups_match_raw_events,
)
from analytics_pipeline.defs.rollups.sensors import RANGE_END_TAG, RANGE_START_TAG
from analytics_pipeline.settings import Settings
from analytics_pipeline.warehouse.database import dagster_storage_url, ensure_database
from analytics_pipeline.warehouse.embedded import ensure_embedded_postgres

REPO_DAGSTER_YAML = Path(__file__).resolve().parents[2] / "dagster.yaml"
POSTGRES_STORAGE_BLOCK = """
storage:
  postgres:
    postgres_url:
      env: DAGSTER_PG_URL
"""


def prepare_dagster_home(settings: Settings) -> Path:
    """Point DAGSTER_HOME at ``$ANALYTICS_HOME/dagster`` with the repo's dagster.yaml, its
    storage on PostgreSQL (``DAGSTER_PG_URL``: the embedded server's ``dagster`` database by
    default). Returns the directory; sets the environment of this process and its children."""
    import os

    home = settings.home / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(REPO_DAGSTER_YAML.read_text() + POSTGRES_STORAGE_BLOCK)
    os.environ["DAGSTER_HOME"] = str(home)
    if not os.environ.get("DAGSTER_PG_URL"):
        if settings.database_url:
            url = settings.database_url
        else:
            url = ensure_database(ensure_embedded_postgres(settings.embedded_pgdata), "dagster")
        os.environ["DAGSTER_PG_URL"] = dagster_storage_url(url)
    return home


def _range_tags(partitions_def: dg.TimeWindowPartitionsDefinition, start: datetime, end: datetime) -> dict[str, str]:
    keys = partitions_def.get_partition_keys_in_time_window(dg.TimeWindow(start, end))
    return {RANGE_START_TAG: keys[0], RANGE_END_TAG: keys[-1]}


def materialize_window(start: datetime, end: datetime, *, instance: dg.DagsterInstance, resources: dict,
                       log_level: str = "DEBUG", costs: bool = True,
                       build_metrics: bool = True) -> list[dg.ExecuteInProcessResult]:
    """Materialize every asset over the whole days ``[start, end)`` (UTC), then the monthly
    exports of the months they fall in: one run per partitioning, each a single-run range,
    in dependency order. ``costs`` adds infrastructure costs, attribution and profitability
    (they need cost data for the days); ``build_metrics`` the CI telemetry. Raises on the
    first failed run."""
    first_month, last_month = (f"{moment:%Y-%m}-01" for moment in (start, end - timedelta(microseconds=1)))
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}

    def run(assets, tags=None):
        return dg.materialize(assets, instance=instance, resources=resources, tags=tags, run_config=run_config)

    runs = [
        run([model_prices]),
        run([raw_usage_events, ingest_ledger_adds_up, quarantine_rate_within_bounds, raw_events_meet_expectations,
             hourly_usage_rollups, hourly_rollups_match_raw_events, usage_within_normal_range],
            _range_tags(hourly_partitions, start, end)),
        run([daily_usage_rollups, endpoint_performance_rollups, daily_rollups_equal_sum_of_hours,
             daily_rollups_match_raw_events],
            _range_tags(daily_partitions, start, end)),
        run([monthly_usage_exports], {RANGE_START_TAG: first_month, RANGE_END_TAG: last_month}),
    ]
    if costs:
        runs.append(run([daily_infra_costs, tenant_cost_attribution, attributed_cost_equals_infra_cost,
                         tenant_budgets], _range_tags(daily_partitions, start, end)))
        runs.append(run([tenant_profitability], {RANGE_START_TAG: first_month, RANGE_END_TAG: last_month}))
    if build_metrics:
        runs.append(run([*BUILD_METRICS_ASSETS, *BUILD_METRICS_CHECKS], _range_tags(daily_partitions, start, end)))
    return runs


def materialize_month(month_start: datetime, *, instance: dg.DagsterInstance, resources: dict,
                      log_level: str = "DEBUG") -> list[dg.ExecuteInProcessResult]:
    """Materialize every asset for the month starting at ``month_start`` (UTC): the main job."""
    month = monthly_partitions.time_window_for_partition_key(month_start.strftime("%Y-%m-%d"))
    return materialize_window(month.start, month.end, instance=instance, resources=resources, log_level=log_level)
