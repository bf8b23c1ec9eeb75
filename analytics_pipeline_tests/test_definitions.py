import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from analytics_pipeline.definitions import defs


def test_definitions_load_with_every_asset():
    dg.Definitions.validate_loadable(defs)
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    assert {"raw_usage_events", "model_prices", "hourly_usage_rollups", "daily_usage_rollups",
            "monthly_usage_exports"} <= keys


def test_every_asset_has_a_description_and_kinds():
    for spec in defs.resolve_all_asset_specs():
        assert spec.description, f"{spec.key} has no docstring for the UI"
        assert spec.kinds, f"{spec.key} declares no kinds"


def test_partitioned_assets_backfill_in_one_run():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.partitions_def is not None:
            assert node.backfill_policy == dg.BackfillPolicy.single_run(), key


def test_dagster_cli_validates_the_definitions():
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "analytics_pipeline.definitions"],
        capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[1],
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _dagster_objects_under_defs():
    """Every asset, check, job, schedule and sensor bound to a name in a module under defs/."""
    import importlib
    import pkgutil

    import analytics_pipeline.defs as package

    kinds = (dg.AssetsDefinition, dg.AssetChecksDefinition, dg.JobDefinition, dg.ScheduleDefinition,
             dg.SensorDefinition)
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

    found = {}
    for info in pkgutil.walk_packages(package.__path__, prefix="analytics_pipeline.defs."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, (*kinds, UnresolvedAssetJobDefinition)):
                found[(info.name, name)] = value
    return found


def test_every_dagster_object_defined_under_defs_is_in_the_definitions():
    registered_assets = {key for a in defs.assets  # an AssetSpec (an external table) has one key
                         for key in (a.keys if isinstance(a, dg.AssetsDefinition) else [a.key])}
    registered_checks = {key for c in defs.asset_checks for key in c.check_keys}
    registered = {"job": {j.name for j in defs.jobs}, "schedule": {s.name for s in defs.schedules},
                  "sensor": {s.name for s in defs.sensors}}
    objects = _dagster_objects_under_defs()
    assert len(objects) > 40
    for (module, name), value in objects.items():
        where = f"{module}.{name}"
        if isinstance(value, dg.AssetChecksDefinition):
            assert set(value.check_keys) <= registered_checks, where
        elif isinstance(value, dg.AssetsDefinition):
            assert set(value.keys) <= registered_assets, where
        elif isinstance(value, dg.ScheduleDefinition):
            assert value.name in registered["schedule"], where
        elif isinstance(value, dg.SensorDefinition):
            assert value.name in registered["sensor"], where
        else:
            assert value.name in registered["job"], where


def test_each_domain_registers_one_definitions():
    from analytics_pipeline.definitions import DOMAINS

    names = {domain.__name__.rsplit(".", 1)[1] for domain in DOMAINS}
    assert names == {"ingestion", "rollups", "exports", "costs", "metrics", "build_metrics", "alerts", "retention",
                     "system_health"}
    for domain in DOMAINS:
        assert isinstance(domain.defs, dg.Definitions), domain.__name__


def test_the_demo_plan_follows_the_asset_graph():
    from analytics_pipeline.defs.runner import materialization_plan

    plan = materialization_plan(defs)
    graph = defs.resolve_asset_graph()
    planned = [key for run in plan for key in run.asset_keys]
    assert len(planned) == len(set(planned))
    # every time-partitioned asset, and the unpartitioned ones they need (the price catalog)
    timed = {key for key in graph.materializable_asset_keys
             if isinstance(graph.get(key).partitions_def, dg.TimeWindowPartitionsDefinition)}
    assert timed <= set(planned)
    assert set(planned) - timed == {dg.AssetKey("model_prices")}
    position = {key: index for index, key in enumerate(planned)}
    for key in planned:  # upstream first
        for parent in graph.get(key).parent_keys:
            assert parent not in position or position[parent] < position[key], (parent, key)
    for run in plan:  # one partitioning per run; its checks partitioned like it
        assert len({graph.get(key).partitions_def for key in run.asset_keys}) == 1
        assert {check.asset_key for check in run.check_keys} <= set(run.asset_keys)
    checks = {check.name for run in plan for check in run.check_keys}
    assert {"ingest_ledger_adds_up", "hourly_rollups_match_raw_events", "exports_reconcile_with_rollups",
            "attributed_cost_equals_infra_cost"} <= checks
    assert not checks & {"raw_events_are_fresh", "hourly_rollups_are_fresh"}  # graded by their schedule


def test_a_new_asset_joins_the_plan_without_editing_the_runner():
    from analytics_pipeline.defs.runner import materialization_plan
    from analytics_pipeline.defs.shared import daily_partitions

    @dg.asset(partitions_def=daily_partitions, deps=["daily_usage_rollups"])
    def daily_newcomer() -> None:
        """A stand-in for a new domain's asset."""

    extended = dg.Definitions.merge(defs, dg.Definitions(assets=[daily_newcomer]))
    [run] = [run for run in materialization_plan(extended) if daily_newcomer.key in run.asset_keys]
    assert dg.AssetKey("daily_usage_rollups") in run.asset_keys  # the same single-run range, after its parent
    assert run.asset_keys.index(daily_newcomer.key) > run.asset_keys.index(dg.AssetKey("daily_usage_rollups"))


def test_configuration_reaches_the_ui_through_resources_and_secrets_stay_env_vars(monkeypatch):
    from analytics_pipeline.definitions import resources_from_settings
    from analytics_pipeline.settings import load_settings

    monkeypatch.setenv("ANALYTICS_DATABASE_URL", "postgresql://analytics:s3cret@db:5432/analytics")
    monkeypatch.setenv("ANALYTICS_ALERT_WEBHOOK_URL", "https://hooks.example/T/B/secret")
    monkeypatch.setenv("ANALYTICS_QUARANTINE_WARN_RATE", "0.002")
    resources = resources_from_settings(load_settings())
    assert isinstance(resources["warehouse"].database_url, dg.EnvVar)  # the UI shows the variable's name
    assert resources["warehouse"].database_url == "ANALYTICS_DATABASE_URL"
    assert isinstance(resources["alert_settings"].webhook_url, dg.EnvVar)
    assert resources["ingestion_settings"].quarantine_warn_rate == 0.002
    shown = repr({key: resource for key, resource in resources.items()})
    assert "s3cret" not in shown and "hooks.example" not in shown


def test_every_setting_reaches_a_resource_or_the_command_line():
    """No setting is read inside an asset: each is a field of a resource built from the settings
    (or, for where the embedded state and Dagster's storage live, the CLI's concern; the export
    API's and the portal's settings are the API's, which runs outside Dagster)."""
    from analytics_pipeline.definitions import resources_from_settings
    from analytics_pipeline.settings import Settings, load_settings, setting_variables

    environ = {variable: "" for variable in setting_variables().values()}
    baseline = resources_from_settings(Settings())
    # Read when the definitions load (policies, partitions: see test_partitions_start_where_the_setting_says).
    cli_only = {"home", "dagster_pg_url", "raw_freshness_warn_minutes", "raw_freshness_fail_minutes",
                "partitions_start"}
    cli_only |= {name for name in setting_variables() if name.startswith(("api_", "portal_"))}
    samples = {int: "17", float: "0.25", str: "s3://bucket/x"}
    for name, variable in setting_variables().items():
        if name in cli_only:
            continue
        default = getattr(Settings(), name)
        value = samples.get(type(default), "tokens" if "driver" in name else "s3://bucket/x")
        if name == "cost_source":
            value = "cost_explorer"
        elif name == "cost_allocation_driver":
            value = "requests"
        changed = resources_from_settings(load_settings({**environ, variable: value}))
        assert any(repr(changed[key]) != repr(baseline[key]) for key in baseline), f"{variable} reaches no resource"


def test_a_delivery_hours_run_is_one_process_with_its_own_checks():
    job = defs.resolve_job_def("raw_usage_events_job")
    assert job.executor_def.name == "in_process"  # one process per run: no subprocess per step
    assert {key.name for key in job.asset_layer.asset_graph.asset_check_keys} == {
        "ingest_ledger_adds_up", "quarantine_rate_within_bounds", "raw_events_meet_contract"}
    assert sorted(node.name for node in job.nodes) == ["delivery_hour_checks", "raw_usage_events"]
    assert defs.resolve_sensor_def("usage_log_sensor").job_name == "raw_usage_events_job"
    for name in ("hourly_rollups_job", "daily_rollups_job", "export_job", "retention_job"):
        assert defs.resolve_job_def(name).executor_def.name == "in_process", name


def test_the_great_expectations_suite_runs_daily_over_the_previous_day():
    from datetime import UTC, datetime

    schedule = defs.resolve_schedule_def("raw_events_expectations_schedule")
    request = schedule.evaluate_tick(dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 3, 1, 3, 15, tzinfo=UTC))).run_requests[0]
    assert (request.tags["dagster/asset_partition_range_start"], request.tags["dagster/asset_partition_range_end"]) == (
        "2026-02-28-00:00", "2026-02-28-23:00")
    job = defs.resolve_job_def("raw_events_expectations_job")
    assert {key.name for key in job.asset_layer.asset_graph.asset_check_keys} == {"raw_events_meet_expectations"}


def test_partitions_start_where_the_setting_says():
    """ANALYTICS_PARTITIONS_START, read once when the definitions load, starts every time
    partitioning (hours, days, months) of every asset and check."""
    script = ("from analytics_pipeline.definitions import defs\n"
              "graph = defs.resolve_asset_graph()\n"
              "starts = {str(graph.get(k).partitions_def.start.date()) for k in graph.materializable_asset_keys\n"
              "          if graph.get(k).partitions_def is not None}\n"
              "starts |= {str(graph.get_check_spec(k).partitions_def.start.date()) for k in graph.asset_check_keys\n"
              "           if graph.get_check_spec(k).partitions_def is not None}\n"
              "print(sorted(starts))")
    environ = {**os.environ, "ANALYTICS_PARTITIONS_START": "2026-10-01"}
    shown = subprocess.run([sys.executable, "-c", script], env=environ, capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "['2026-10-01']"
    mid_month = {**environ, "ANALYTICS_PARTITIONS_START": "2026-10-15"}
    refused = subprocess.run([sys.executable, "-c", script], env=mid_month, capture_output=True, text=True)
    assert refused.returncode != 0
    assert "ANALYTICS_PARTITIONS_START='2026-10-15': must be the first day" in refused.stderr
