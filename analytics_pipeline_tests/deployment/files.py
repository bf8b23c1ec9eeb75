"""The deployment files of the repository, read the way the tests compare them."""

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
LOCAL_INSTANCE = REPO / "dagster.yaml"
DEPLOYMENT_INSTANCE = REPO / "docker" / "dagster.yaml"
ECS_INSTANCE = REPO / "deploy" / "ecs" / "dagster.yaml"
DEPLOYMENT_WORKSPACE = REPO / "docker" / "workspace.yaml"
COMPOSE = REPO / "docker" / "docker-compose.yml"
DOCKERFILE = REPO / "docker" / "Dockerfile"
ENV_EXAMPLE = REPO / "docker" / ".env.example"
HELM_VALUES = REPO / "deploy" / "helm" / "values.yaml"
HELM_CHART_KEYS = REPO / "deploy" / "helm" / "chart-keys.txt"

#: The instance settings every Dagster of the project shares, locally and deployed.
SHARED_INSTANCE_BLOCKS = ("run_coordinator", "run_retries", "retention", "telemetry")


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text())


def with_run_launcher(instance_config: dict, run_launcher: dict | None) -> dict:
    """``instance_config`` with another run launcher (None: Dagster's default, in-process launches)."""
    config = {key: value for key, value in instance_config.items() if key != "run_launcher"}
    if run_launcher is not None:
        config["run_launcher"] = run_launcher
    return config
