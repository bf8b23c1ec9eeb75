"""The assets and checks end to end on S3 (moto's server), PostgreSQL and a PostgreSQL-backed
Dagster instance: generated run files -> analytics_ci_runs -> trends -> regression and budget checks."""

import uuid
from datetime import UTC, date, datetime, timedelta

import boto3
import dagster as dg
import pytest

from analytics_pipeline.defs.build_metrics import defs as build_metrics_defs
from analytics_pipeline.defs.build_metrics.assets import ci_build_runs, ci_duration_trends
from analytics_pipeline.defs.build_metrics.checks import (
    CI_DURATION_BUDGET,
    CI_DURATION_REGRESSION,
    ci_duration_budget,
    ci_duration_regression,
)
from analytics_pipeline.defs.build_metrics.sensors import build_metrics_sensor
from analytics_pipeline.generator.ci_runs import generate_ci_runs
from analytics_pipeline.storage.object_store import S3ObjectStore
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.resources import pipeline_resources

START = date(2025, 11, 1)
DAYS = 10
RANGE = {"dagster/asset_partition_range_start": "2025-11-01", "dagster/asset_partition_range_end": "2025-11-10"}
CHECKS = [ci_duration_regression, ci_duration_budget]
SELECTION = [ci_build_runs, ci_duration_trends, *CHECKS]
TODAY = datetime(2026, 3, 14, tzinfo=UTC)  # the day of the sensor's clock (noon)


@pytest.fixture(scope="module")
def generated_bucket(s3_endpoint):
    """One bucket of generated run files for the module: the tests only read it."""
    bucket = f"bucket-{uuid.uuid4().hex[:10]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    store = S3ObjectStore(client, bucket)
    generated = generate_ci_runs(lambda key, data: store.write(key, data, content_type="application/json"),
                                 start=START, days=DAYS, services=["user-org-service", "billing-service"],
                                 commands=["make check"], runs_per_day=6, seed=3,
                                 regression_at=datetime(2025, 11, 7, tzinfo=UTC), duplicate_rate=0.02,
                                 invalid_rate=0.03)
    return bucket, generated


@pytest.fixture
def generated(generated_bucket):
    return generated_bucket[1]


@pytest.fixture
def resources(warehouse_url, s3_endpoint, generated_bucket):
    return pipeline_resources(warehouse_url, f"s3://{generated_bucket[0]}", s3_endpoint=s3_endpoint,
                              build_metrics_url=f"s3://{generated_bucket[0]}", now=TODAY + timedelta(hours=12))


def materializations(result, name):
    return [e.materialization for e in result.get_asset_materialization_events() if e.asset_key.path == [name]]


def check_result(result, name):
    """The check's result of the run's last day (a range judges each day as of its own end)."""
    evaluations = sorted((e for e in result.get_asset_check_evaluations() if e.check_name == name),
                         key=lambda e: e.partition)
    assert len({e.partition for e in evaluations}) == len(evaluations)  # one per day, never the range's
    return evaluations[-1]


def test_a_backfill_loads_every_file_once_and_the_checks_name_the_regression(
        resources, generated, dagster_instance, warehouse_url):
    result = dg.materialize(SELECTION, instance=dagster_instance, resources=resources, tags=RANGE)
    assert result.success
    loaded = materializations(result, "ci_build_runs")
    assert len(loaded) == DAYS  # a single run reports on each partition of its range
    # Each day carries its own figures: the runs its files hold; the range's totals are logged once.
    assert sum(m.metadata["dagster/row_count"].value for m in loaded) == generated.runs
    assert all("runs_accepted" not in m.metadata and "window_start" in m.metadata for m in loaded)
    metadata = {k: v.value for k, v in loaded[0].metadata.items()}
    assert sum(metadata["quarantine_reasons"].values()) == generated.invalid_files
    totals = next(entry.user_message for entry in dagster_instance.all_logs(result.run_id)
                  if entry.user_message.startswith("run totals over"))
    assert (f"runs_accepted={generated.runs}, duplicates={generated.duplicate_files}, "
            f"quarantined={generated.invalid_files}") in totals and f"files_loaded={generated.files_written}" in totals

    trends = [m.metadata for m in materializations(result, "ci_duration_trends")]
    assert sum(m["dagster/row_count"].value for m in trends) == DAYS * 2
    assert sum(m["runs"].value for m in trends) == generated.runs

    assert len([e for e in result.get_asset_check_evaluations() if e.check_name == CI_DURATION_REGRESSION]) == DAYS
    regression = check_result(result, CI_DURATION_REGRESSION)
    assert not regression.passed and regression.severity == dg.AssetCheckSeverity.ERROR
    assert generated.regression.commit_sha in regression.description
    assert "user-org-service / make check" in regression.description
    assert "billing-service" not in regression.description
    assert regression.metadata["shift_commits"].value == [generated.regression.commit_sha]
    assert check_result(result, CI_DURATION_BUDGET).metadata["services_checked"].value == 2

    # The trends and checks of the day before the regression, configured: quiet; a tight budget warns.
    run_config = {"ops": {
        "ci_duration_trends_ci_duration_regression": {"config": {"window_runs": 10, "warn_increase": 0.3,
                                                                 "fail_increase": 0.6}},
        "ci_duration_trends_ci_duration_budget": {"config": {"budgets": [
            {"command": "make check", "max_seconds": 60, "percentile": 0.5}]}},
    }}
    checks = dg.materialize([ci_duration_trends, *CHECKS], instance=dagster_instance,
                            resources=resources, partition_key="2025-11-06", run_config=run_config)
    regression = check_result(checks, CI_DURATION_REGRESSION)
    assert regression.passed and regression.metadata["window_runs"].value == 10
    assert regression.metadata["groups_compared"].value == 2
    budget = check_result(checks, CI_DURATION_BUDGET)
    assert not budget.passed and budget.severity == dg.AssetCheckSeverity.WARN
    assert budget.metadata["breaches"].value == 2 and "over budget" in budget.description

    # Loading again: every file is already in the ledger, nothing changes.
    again = dg.materialize([ci_build_runs], instance=dagster_instance, resources=resources, tags=RANGE)
    totals = next(entry.user_message for entry in dagster_instance.all_logs(again.run_id)
                  if entry.user_message.startswith("run totals over"))
    assert f"files_loaded=0, files_skipped={generated.files_written}," in totals
    with connect(warehouse_url) as conn:
        assert conn.execute("SELECT count(*) FROM analytics_ci_runs").fetchone()[0] == generated.runs


def test_the_sensor_run_request_loads_its_files_and_the_next_tick_is_quiet(resources, dagster_instance, s3_client,
                                                                            generated_bucket):
    today = TODAY
    store = S3ObjectStore(s3_client, generated_bucket[0])
    generate_ci_runs(lambda key, data: store.write(key, data), start=today.date(), days=1,
                     services=["user-org-service"], commands=["make build"], runs_per_day=3)

    def tick():
        with dg.build_sensor_context(instance=dagster_instance, resources=resources) as context:
            return build_metrics_sensor(context).run_requests

    [request] = tick()
    result = dg.materialize(SELECTION, instance=dagster_instance, resources=resources,
                            partition_key=request.partition_key, run_config=request.run_config)
    metadata = materializations(result, "ci_build_runs")[0].metadata
    assert metadata["runs_accepted"].value == 3
    assert tick() == []


def test_the_domain_definitions_load_with_the_resources(resources):
    defs = dg.Definitions.merge(build_metrics_defs, dg.Definitions(resources=resources))
    dg.Definitions.validate_loadable(defs)
    for spec in defs.resolve_all_asset_specs():
        assert spec.description and spec.kinds
    assert {n.name for n in defs.resolve_job_def("build_metrics_job").nodes} >= {"ci_build_runs", "ci_duration_trends"}
