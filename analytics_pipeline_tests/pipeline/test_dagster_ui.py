"""What the Dagster UI shows after the demo's pipeline, read through the instance's API: every
partition of every partitioned check has a result (never skipped), each partition carries its
own figures, and every sensor, schedule and job says what it is for."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from analytics_pipeline.definitions import defs
from analytics_pipeline.defs.runner import LAUNCHED_BY_TAG, PLAN_STEP_TAG, materialize_window
from analytics_pipeline.generator.usage_logs import generate_usage_logs
from analytics_pipeline.storage.object_store import LocalDirectoryStore
from analytics_pipeline_tests.resources import pipeline_resources

FIRST_DAY = datetime(2026, 10, 1, tzinfo=UTC)
DAYS = 2
NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)
USAGE_ONLY = dg.AssetSelection.all() - dg.AssetSelection.groups("costs", "build_telemetry")
RAW_EVENTS = dg.AssetKey("raw_usage_events")
HOURLY_ROLLUPS = dg.AssetKey("hourly_usage_rollups")


@pytest.fixture
def demo_run(tmp_path, warehouse_url, dagster_instance):
    """The demo's pipeline (its runner and plan) over two days of a small month of usage."""
    logs = LocalDirectoryStore(tmp_path / "logs")
    generate_usage_logs(lambda key, data: logs.write(key, data), start=FIRST_DAY.date(), days=DAYS, orgs=3,
                        models=2, events_per_hour=20, seed=5)
    resources = pipeline_resources(warehouse_url, str(tmp_path), now=NOW)
    results = materialize_window(FIRST_DAY, FIRST_DAY + timedelta(days=DAYS), instance=dagster_instance,
                                 resources=resources, selection=USAGE_ONLY)
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
    # The runs list says what each run was: who launched it and its step of the plan.
    runs = demo_run[0].get_runs()
    assert runs and all(run.tags.get(LAUNCHED_BY_TAG) == "runner" and run.tags.get(PLAN_STEP_TAG) for run in runs)


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
