"""The Kinesis consumer's manifests for Kubernetes (deploy/kubernetes/consumer.yaml) and ECS
(deploy/ecs/consumer-task-definition.json), checked without a cluster: they parse, their command
and health check parse with the CLI's own parser as `consume` of one stream, every ANALYTICS_*
variable they name is a setting, secrets come from a Secret / Secrets Manager, never inline, and
they run as the image's user."""

import json
import re

import pytest

from analytics_pipeline.cli import build_parser
from analytics_pipeline.settings import setting_variables
from analytics_pipeline_tests.deployment.files import DOCKERFILE, REPO, load_yaml

KUBERNETES_CONSUMER = REPO / "deploy" / "kubernetes" / "consumer.yaml"
ECS_CONSUMER = REPO / "deploy" / "ecs" / "consumer-task-definition.json"


def consume_arguments(command: list[str]):
    """``command`` parsed by the CLI's parser; it must be ``analytics-pipeline consume``."""
    assert command[0] == "analytics-pipeline"
    args = build_parser().parse_args(command[1:])
    assert args.command == "consume" and args.func.__name__ == "cmd_consume"
    return args


def image_user() -> str:
    return next(line.split()[1] for line in DOCKERFILE.read_text().splitlines() if line.startswith("USER "))


@pytest.fixture(scope="module")
def deployment() -> dict:
    loaded = load_yaml(KUBERNETES_CONSUMER)
    assert (loaded["apiVersion"], loaded["kind"]) == ("apps/v1", "Deployment")
    return loaded


@pytest.fixture(scope="module")
def task_definition() -> dict:
    return json.loads(ECS_CONSUMER.read_text())


def test_the_kubernetes_deployment_runs_the_consumer_with_its_env_from_the_secret(deployment):
    spec = deployment["spec"]
    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    pod = spec["template"]["spec"]
    [container] = pod["containers"]
    args = consume_arguments([*container["command"], *container["args"]])
    assert args.stream and not args.status
    probe = consume_arguments(container["livenessProbe"]["exec"]["command"])
    assert probe.status and probe.stream == args.stream  # the health of the stream it reads
    # Settings and credentials from the Secret the Dagster chart's pods use; nothing secret inline.
    assert container["envFrom"] == [{"secretRef": {"name": "analytics-pipeline-env"}}]
    helm_values = (REPO / "deploy" / "helm" / "values.yaml").read_text()
    assert "analytics-pipeline-env" in helm_values
    assert not any(variable["name"].startswith(("ANALYTICS_", "AWS_SECRET", "AWS_ACCESS"))
                   for variable in container.get("env", []))
    uid, gid = image_user().split(":")
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]) == (int(uid), int(gid))
    assert pod["securityContext"]["runAsNonRoot"] is True


def test_the_ecs_task_definition_runs_the_consumer_with_secrets_from_secrets_manager(task_definition):
    [container] = task_definition["containerDefinitions"]
    args = consume_arguments(container["command"])
    assert args.stream and not args.status
    health = container["healthCheck"]["command"]
    assert health[0] == "CMD"
    probe = consume_arguments(health[1:])
    assert probe.status and probe.stream == args.stream
    assert {"ANALYTICS_DATABASE_URL"} <= {secret["name"] for secret in container["secrets"]}
    assert all(secret["valueFrom"].startswith("arn:aws:secretsmanager:") for secret in container["secrets"])
    assert not any(variable["name"].startswith("ANALYTICS_") for variable in container["environment"])
    assert container["user"] == image_user()
    assert task_definition["taskRoleArn"]  # the Kinesis read permissions: AWS credentials are the task role's


@pytest.mark.parametrize("path", [KUBERNETES_CONSUMER, ECS_CONSUMER], ids=lambda path: path.name)
def test_every_analytics_variable_the_manifests_name_is_a_setting(path):
    named = set(re.findall(r"\bANALYTICS_[A-Z0-9_]+", path.read_text()))
    settings = set(setting_variables().values())
    assert "ANALYTICS_DATABASE_URL" in named  # what the consumer cannot run without
    assert named <= settings, f"not settings: {sorted(named - settings)}"
