"""The deployment's Dagster instance: it loads, and it agrees with the local one and the ECS one."""

import dagster as dg
import pytest
import yaml

from analytics_pipeline.cli.services import POSTGRES_STORAGE_BLOCK
from analytics_pipeline_tests.deployment.files import (
    DEPLOYMENT_INSTANCE,
    DEPLOYMENT_WORKSPACE,
    ECS_INSTANCE,
    LOCAL_INSTANCE,
    SHARED_INSTANCE_BLOCKS,
    load_yaml,
    with_run_launcher,
)


@pytest.mark.parametrize("block", SHARED_INSTANCE_BLOCKS)
def test_the_run_queue_retries_and_retention_are_the_same_locally_and_deployed(block):
    local = load_yaml(LOCAL_INSTANCE)
    assert load_yaml(DEPLOYMENT_INSTANCE)[block] == local[block]
    assert load_yaml(ECS_INSTANCE)[block] == local[block]


def test_the_local_storage_block_is_the_deployment_one():
    assert yaml.safe_load(POSTGRES_STORAGE_BLOCK)["storage"] == load_yaml(DEPLOYMENT_INSTANCE)["storage"]


def test_ecs_differs_from_compose_only_in_its_run_launcher():
    compose, ecs = load_yaml(DEPLOYMENT_INSTANCE), load_yaml(ECS_INSTANCE)
    assert with_run_launcher(ecs, None) == with_run_launcher(compose, None)
    assert (compose["run_launcher"]["class"], ecs["run_launcher"]["class"]) == ("DockerRunLauncher", "EcsRunLauncher")


@pytest.fixture
def deployment_environment(monkeypatch, dagster_pg_url):
    monkeypatch.setenv("DAGSTER_PG_URL", dagster_pg_url)
    monkeypatch.setenv("DAGSTER_COMPUTE_LOGS_BUCKET", "dagster-compute-logs")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def _instance(path):
    return dg.DagsterInstance.from_config(str(path.parent), config_filename=path.name)


def test_the_compose_instance_loads_with_its_launcher_queue_and_log_storage(deployment_environment):
    from dagster_aws.s3.compute_log_manager import S3ComputeLogManager
    from dagster_docker import DockerRunLauncher

    with _instance(DEPLOYMENT_INSTANCE) as instance:
        launcher = instance.run_launcher
        assert isinstance(launcher, DockerRunLauncher) and launcher.networks == ["analytics_pipeline"]
        assert "DAGSTER_PG_URL" in launcher.env_vars and "ANALYTICS_DATABASE_URL" in launcher.env_vars
        coordinator = instance.run_coordinator
        assert isinstance(coordinator, dg.QueuedRunCoordinator)
        assert [(limit["key"], limit["limit"]) for limit in coordinator.get_run_queue_config().tag_concurrency_limits
                ] == [("analytics/export", 2)]
        assert isinstance(instance.compute_log_manager, S3ComputeLogManager)
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        assert instance.run_monitoring_enabled
        assert instance.get_runs() == []  # the storage is the PostgreSQL database DAGSTER_PG_URL names


def test_the_ecs_instance_loads_with_the_ecs_launcher(deployment_environment):
    from dagster_aws.ecs import EcsRunLauncher

    with _instance(ECS_INSTANCE) as instance:
        launcher = instance.run_launcher  # creates boto3 clients only: no AWS call
        assert isinstance(launcher, EcsRunLauncher)
        assert launcher.secrets_tags == ["analytics-pipeline"] and launcher.use_current_ecs_task_config
        assert "DAGSTER_PG_URL" not in launcher.env_vars  # a secret: from Secrets Manager, never a plain variable


def test_the_workspace_names_the_code_server_through_the_environment(monkeypatch):
    from dagster._core.workspace.config_schema import process_workspace_config

    monkeypatch.setenv("DAGSTER_CODE_SERVER_HOST", "code-server")
    monkeypatch.setenv("DAGSTER_CODE_SERVER_PORT", "4000")
    processed = process_workspace_config(load_yaml(DEPLOYMENT_WORKSPACE))
    assert processed.success, processed.errors
    [entry] = processed.value["load_from"]
    assert entry == {"grpc_server": {"host": "code-server", "port": 4000, "location_name": "analytics_pipeline"}}
