"""deploy/helm/values.yaml: it parses, it sets only keys of Dagster's chart (deploy/helm/chart-keys.txt
says where each was checked), and its run queue, images and user agree with the rest of the project."""

import re
import tomllib
from importlib.metadata import version

import pytest

from analytics_pipeline_tests.deployment.files import (
    DOCKERFILE,
    HELM_CHART_KEYS,
    HELM_VALUES,
    LOCAL_INSTANCE,
    REPO,
    load_yaml,
)


def chart_keys() -> dict[str, str]:
    """The listed keys, by key: where each was checked."""
    rows = (line.split(None, 1) for line in HELM_CHART_KEYS.read_text().splitlines()
            if line.strip() and not line.startswith("#"))
    return {key: source for key, source in rows}


def value_keys(node, path: str, free_form: set[str]):
    """Each key path of ``node``: maps by ``.``, lists of maps by ``[]``, a free-form key as ``key/*``."""
    if path in free_form:
        yield f"{path}/*"
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from value_keys(value, f"{path}.{key}" if path else key, free_form)
    elif isinstance(node, list) and node and all(isinstance(item, dict) for item in node):
        for item in node:
            yield from value_keys(item, f"{path}[]", free_form)
    else:
        yield path


@pytest.fixture(scope="module")
def values() -> dict:
    loaded = load_yaml(HELM_VALUES)
    assert isinstance(loaded, dict)
    return loaded


def test_the_values_set_only_the_chart_keys_that_were_checked_and_every_one_listed_is_set(values):
    listed = chart_keys()
    free_form = {key.removesuffix("/*") for key in listed if key.endswith("/*")}
    used = set(value_keys(values, "", free_form))
    assert used - set(listed) == set(), "set in values.yaml but not checked against the chart"
    assert set(listed) - used == set(), "listed in chart-keys.txt but not set"
    assert all(re.fullmatch(r"[ST] \S+@[0-9a-f]{7}( \(\w+\))?", source) for source in listed.values())


def test_the_run_queue_and_retries_are_the_projects(values):
    local = load_yaml(LOCAL_INSTANCE)
    queued = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert values["dagsterDaemon"]["runCoordinator"]["type"] == local["run_coordinator"]["class"]
    assert queued["tagConcurrencyLimits"] == local["run_coordinator"]["config"]["tag_concurrency_limits"]
    assert queued["maxConcurrentRuns"] == local["run_coordinator"]["config"]["max_concurrent_runs"]
    retries = values["dagsterDaemon"]["runRetries"]
    assert (retries["enabled"], retries["maxRetries"]) == (local["run_retries"]["enabled"],
                                                           local["run_retries"]["max_retries"])
    sensor_ticks = values["retention"]["sensor"]["purgeAfterDays"]
    assert sensor_ticks == {**local["retention"]["sensor"]["purge_after_days"], "started": -1}  # -1: Dagster's default
    assert values["retention"]["schedule"]["purgeAfterDays"] == local["retention"]["schedule"]["purge_after_days"]


def test_images_are_pinned_to_the_versions_of_the_project(values):
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    [deployment] = values["dagster-user-deployments"]["deployments"]
    assert deployment["image"]["repository"].endswith("/analytics-pipeline")
    assert deployment["image"]["tag"] == project["project"]["version"]
    assert deployment["codeServerArgs"] == ["-m", project["tool"]["dagster"]["module_name"]]
    for component in ("dagsterWebserver", "dagsterDaemon"):
        assert values[component]["image"]["tag"] == version("dagster")  # the chart's version is Dagster's


def test_pods_run_as_the_images_user_and_no_secret_is_in_the_values(values):
    uid = int(re.search(r"--uid (\d+)", DOCKERFILE.read_text()).group(1))
    [deployment] = values["dagster-user-deployments"]["deployments"]
    run_pod = values["runLauncher"]["config"]["k8sRunLauncher"]["runK8sConfig"]["podSpecConfig"]["securityContext"]
    for context in (deployment["podSecurityContext"], run_pod):
        assert context["runAsNonRoot"] is True and context["runAsUser"] == uid
    assert deployment["envSecrets"] == [{"name": "analytics-pipeline-env"}]
    assert values["generatePostgresqlPasswordSecret"] is False and "postgresqlPassword" not in values["postgresql"]
    text = HELM_VALUES.read_text()
    assert not re.search(r"(?i)(password|secret_access_key|token)\s*:", text)
