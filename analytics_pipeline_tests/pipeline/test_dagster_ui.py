"""What the Dagster UI shows after the demo's pipeline, read through the instance's API: every
partition of every partitioned check has a result (never skipped), each partition carries its
own figures, and every sensor, schedule and job says what it is for."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from analytics_pipeline.cli.demo import EXAMPLE_BUDGETS
from analytics_pipeline.definitions import defs
from analytics_pipeline.defs.runner import LAUNCHED_BY_TAG, PIPELINE_JOB_NAMES, PLAN_STEP_TAG, materialize_window
from analytics_pipeline.generator.ci_runs import generate_ci_runs
from analytics_pipeline.generator.focus_costs import generate_focus_costs
from analytics_pipeline.generator.usage_logs import generate_usage_logs
from analytics_pipeline.storage.object_store import LocalDirectoryStore
from analytics_pipeline_tests.resources import pipeline_resources

FIRST_DAY = datetime(2026, 10, 1, tzinfo=UTC)
DAYS = 2
NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)
RAW_EVENTS = dg.AssetKey("raw_usage_events")
HOURLY_ROLLUPS = dg.AssetKey("hourly_usage_rollups")


@pytest.fixture
def demo_run(tmp_path, warehouse_url, dagster_instance):
    """The demo's pipeline (its runner and whole plan) over two days of a small month of usage,
    infrastructure costs and CI runs."""
    logs, focus = LocalDirectoryStore(tmp_path / "logs"), LocalDirectoryStore(tmp_path / "focus")
    build_metrics = LocalDirectoryStore(tmp_path / "build-metrics")
    usage = generate_usage_logs(lambda key, data: logs.write(key, data), start=FIRST_DAY.date(), days=DAYS, orgs=3,
                                models=2, events_per_hour=20, seed=5)
    generate_focus_costs(lambda key, data: focus.write(key, data), start=FIRST_DAY.date(), days=DAYS,
                         usage_by_org=usage.totals_by_org, seed=5)
    generate_ci_runs(lambda key, data: build_metrics.write(key, data), start=FIRST_DAY.date(), days=DAYS, seed=5)
    # The demo's budgets too: the budget check judges each day instead of being skipped.
    resources = pipeline_resources(warehouse_url, str(tmp_path), now=NOW,
                                   environ={"ANALYTICS_BUDGETS_FILE": str(EXAMPLE_BUDGETS)})
    results = materialize_window(FIRST_DAY, FIRST_DAY + timedelta(days=DAYS), instance=dagster_instance,
                                 resources=resources)
    assert all(result.success for _, result in results)
    return dagster_instance, results


def _partitions_in_window(partitions_def: dg.TimeWindowPartitionsDefinition) -> list[str]:
    if isinstance(partitions_def, dg.MonthlyPartitionsDefinition):
        return [FIRST_DAY.strftime("%Y-%m-%d")]
    return partitions_def.get_partition_keys_in_time_window(
        dg.TimeWindow(FIRST_DAY, FIRST_DAY + timedelta(days=DAYS)))


def test_every_partition_has_its_check_results_and_its_own_figures(demo_run):
    """One pipeline run (the slow part) serves both halves."""
    _every_partitioned_check_has_a_result_per_partition(*demo_run)
    _each_partition_carries_its_own_figures(demo_run[0])
    _metrics_costs_and_ci_partitions_carry_their_own_figures(demo_run[0])
    # The runs list says what each run was: a named job that says what it is for, who launched it
    # and its step of the plan.
    runs = demo_run[0].get_runs()
    assert runs and all(run.tags.get(LAUNCHED_BY_TAG) == "runner" and run.tags.get(PLAN_STEP_TAG) for run in runs)
    repository = defs.get_repository_def()
    for run in runs:
        assert run.job_name != "__ephemeral_asset_job__" and not run.job_name.startswith("__"), run.job_name
        assert repository.get_job(run.job_name).description, f"{run.job_name} has no description"
    jobs = {run.job_name for run in runs}
    # A domain's own job where it covers the run's assets, the pipeline's job of the partitioning elsewhere.
    assert {"model_prices_job", PIPELINE_JOB_NAMES["hourly"], PIPELINE_JOB_NAMES["daily"]} <= jobs


def _every_partitioned_check_has_a_result_per_partition(instance: dg.DagsterInstance, results) -> None:
    graph = defs.resolve_asset_graph()
    planned = {check for run, _ in results for check in run.check_keys}
    partitioned = {key: graph.get_check_spec(key).partitions_def for key in planned
                   if graph.get_check_spec(key).partitions_def is not None}
    assert {dg.AssetCheckKey(RAW_EVENTS, "quarantine_rate_within_bounds"),
            dg.AssetCheckKey(RAW_EVENTS, "raw_events_meet_expectations"),
            dg.AssetCheckKey(HOURLY_ROLLUPS, "usage_within_normal_range")} <= set(partitioned)
    for check_key, partitions_def in partitioned.items():
        infos = instance.event_log_storage.get_asset_check_partition_info([check_key])
        statuses = {info.partition_key: info.latest_execution_status for info in infos}
        expected = _partitions_in_window(partitions_def)
        missing = [key for key in expected if statuses.get(key) not in (
            AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED)]
        assert not missing, f"{check_key.to_user_string()}: no result (skipped) for {missing[:3]}..."
        assert None not in statuses, f"{check_key.to_user_string()}: a result without a partition"
        # Each result points at the materialization of its own partition.
        for info in infos:
            if info.partition_key in expected:
                assert info.latest_target_materialization_storage_id is not None


def _each_partition_carries_its_own_figures(instance: dg.DagsterInstance) -> None:
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=RAW_EVENTS), limit=1000).records
    by_hour = {r.partition_key: r.asset_materialization.metadata for r in records}
    assert len(by_hour) == 24 * DAYS
    accepted = [m["accepted"].value for m in by_hour.values()]
    assert len(set(accepted)) > 1, "every hour shows the same figures: the run's totals"
    assert all(m["dagster/row_count"].value == m["accepted"].value for m in by_hour.values())
    assert all(not name.startswith("run_") for m in by_hour.values() for name in m)
    windows = {m["window_start"].value for m in by_hour.values()}
    assert len(windows) == 24 * DAYS  # each hour's own window, not the range's

    rollups = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=HOURLY_ROLLUPS), limit=1000).records
    requests = {r.partition_key: r.asset_materialization.metadata["request_count"].value for r in rollups}
    assert len(requests) == 24 * DAYS and len(set(requests.values())) > 1

    checks = instance.event_log_storage.get_asset_check_partition_info(
        [dg.AssetCheckKey(RAW_EVENTS, "quarantine_rate_within_bounds")])
    lines = set()
    for info in checks:
        record = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(RAW_EVENTS, "quarantine_rate_within_bounds"), limit=1,
            partition_filter=PartitionKeyFilter(key=info.partition_key))
        lines.add(record[0].evaluation.metadata["lines_read"].value)
    assert len(lines) > 1


def _figures(instance: dg.DagsterInstance, asset: str) -> dict[str, dict]:
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset)), limit=1000).records
    return {r.partition_key: {name: entry.value for name, entry in r.asset_materialization.metadata.items()}
            for r in records}


def _metrics_costs_and_ci_partitions_carry_their_own_figures(instance: dg.DagsterInstance) -> None:
    # Each partition's figure is its own (they differ), with its row count, never the range's.
    for asset, figure, partitions in (
            ("daily_activity", "request_count", DAYS), ("customer_health", "mean_score", DAYS),
            ("endpoint_hourly_metrics", "request_count", 24 * DAYS),
            ("agent_hourly_metrics", "agent_invocations", 24 * DAYS),
            ("daily_infra_costs", "cost_total", DAYS), ("tenant_cost_attribution", "attributed_total", DAYS),
            ("ci_build_runs", "mean_duration_seconds", DAYS), ("ci_duration_trends", "successful_runs", DAYS)):
        by_partition = _figures(instance, asset)
        assert len(by_partition) == partitions, asset
        assert len({m[figure] for m in by_partition.values()}) > 1, f"{asset}: every partition shows the same {figure}"
        assert all(m["dagster/row_count"] > 0 for m in by_partition.values()), asset
        assert len({m["window_start"] for m in by_partition.values()}) == partitions, asset
        assert not any(name == "rows" or name.endswith("_exact") for m in by_partition.values() for name in m), asset
    # ... and they add up: the days' requests are the hours' (both by event time, as the rollups count them).
    days = sum(m["request_count"] for m in _figures(instance, "daily_activity").values())
    hours = sum(m["request_count"] for m in _figures(instance, "hourly_usage_rollups").values())
    assert days == hours > 0
    # A day's own cost: the costs loaded for it (cost_total once, no exact twin).
    infra = _figures(instance, "daily_infra_costs")
    assert all(m["cost_total"] > 0 and "cost_total_exact" not in m for m in infra.values())
    revenue = _figures(instance, "monthly_revenue")
    assert set(revenue) == {FIRST_DAY.strftime("%Y-%m-%d")} and revenue[FIRST_DAY.strftime("%Y-%m-%d")]["mrr"] > 0


def test_every_sensor_schedule_and_job_is_explained():
    for sensor in defs.sensors or ():
        assert sensor.description, f"sensor {sensor.name} has no description"
    for schedule in defs.schedules or ():
        assert schedule.description, f"schedule {schedule.name} has no description"
    repository = defs.get_repository_def()
    for job in repository.get_all_jobs():
        if job.name.startswith("__"):
            continue
        assert job.description, f"job {job.name} has no description"
    anonymous = [t.job_name for t in [*repository.sensor_defs, *repository.schedule_defs]
                 for t in getattr(t, "targets", ()) if t.job_name.startswith("__")]
    assert not anonymous, f"anonymous jobs: {anonymous}"
