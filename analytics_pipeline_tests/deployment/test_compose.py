"""docker/docker-compose.yml, proved without a Docker engine: valid against the compose
specification, images pinned, settings real, buckets created, secrets from docker/.env only."""

import os
import re
import subprocess
import sys
import tomllib

import pytest

from analytics_pipeline.settings import setting_variables
from analytics_pipeline_tests.deployment.files import (
    COMPOSE,
    DEPLOYMENT_INSTANCE,
    ENV_EXAMPLE,
    REPO,
    env_file,
    interpolate,
    load_yaml,
    references,
)

PINNED = re.compile(r"^[a-z0-9][a-z0-9._/-]*(:(?!latest$)[\w.-]*\d[\w.-]*)?(@sha256:[0-9a-f]{64})?$")
ONE_SHOT = {"buckets", "migrate"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|_PASS$|TOKEN")
CREDENTIALS_IN_URL = re.compile(r"://[^:/@]+:([^@]+)@")
#: What docker/.env would hold: every variable it names, given a placeholder value.
DOTENV = {name: f"placeholder-{name.lower()}" for name in env_file(ENV_EXAMPLE)} | {"DOCKER_GID": "999"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_yaml(COMPOSE)


def _environment(service: dict) -> dict[str, str]:
    return {name: str(value) for name, value in (service.get("environment") or {}).items()}


def _pipeline_services(compose) -> dict[str, dict]:
    image = compose["x-pipeline-image"]["image"]
    return {name: service for name, service in compose["services"].items() if service["image"] == image}


def test_the_compose_file_is_valid_against_the_compose_specification():
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                             str(COMPOSE)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_image_is_pinned_and_ours_carries_the_package_version(compose):
    for name, service in compose["services"].items():
        image = service["image"]
        assert ":" in image.rsplit("/", 1)[-1] or "@sha256:" in image, f"{name}: {image} has no tag"
        assert PINNED.match(image), f"{name}: {image} is not pinned to a version"
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    ours = compose["x-pipeline-image"]["image"]
    assert ours == f"analytics-pipeline:{version}"
    assert _environment(compose["services"]["code-server"])["DAGSTER_CURRENT_IMAGE"] == ours  # the runs' image


def test_every_analytics_variable_it_sets_is_a_setting(compose):
    settings = set(setting_variables().values())
    named = set(env_file(ENV_EXAMPLE)) | references(COMPOSE.read_text())
    for service in compose["services"].values():
        named |= set(_environment(service))
    analytics = {name for name in named if name.startswith("ANALYTICS_")}
    assert analytics and analytics <= settings, f"not settings: {sorted(analytics - settings)}"
    assert {"ANALYTICS_DATABASE_URL", "ANALYTICS_LOGS_URL", "DAGSTER_PG_URL"} <= named


def test_the_bucket_step_creates_every_store_the_stack_names(compose, s3_endpoint, s3_client, tmp_path):
    named = set()
    for service in compose["services"].values():
        for name, value in _environment(service).items():
            if value.startswith("s3://"):
                named.add(value[len("s3://"):].split("/", 1)[0])
            elif name == "DAGSTER_COMPUTE_LOGS_BUCKET":
                named.add(value)
    assert len(named) == 6  # logs, exports, archive, FOCUS costs, build metrics; Dagster's compute logs
    assert not named & {b["Name"] for b in s3_client.list_buckets()["Buckets"]}

    step = compose["services"]["buckets"]
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert step["command"][0] == "analytics-pipeline" and scripts["analytics-pipeline"] == "analytics_pipeline.cli:main"
    environment = {name: interpolate(value, DOTENV) for name, value in _environment(step).items()}
    environment |= {"AWS_ENDPOINT_URL": s3_endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "ANALYTICS_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "analytics_pipeline.cli", *step["command"][1:]], env=environment,
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert named <= {b["Name"] for b in s3_client.list_buckets()["Buckets"]}


def test_runs_get_exactly_the_environment_of_the_services(compose):
    """The launcher forwards variables by name from the daemon's environment: each must be set there."""
    forwarded = load_yaml(DEPLOYMENT_INSTANCE)["run_launcher"]["config"]["env_vars"]
    assert sorted(forwarded) == sorted(compose["x-pipeline-env"])
    daemon = _environment(compose["services"]["daemon"])
    assert set(forwarded) <= set(daemon)
    assert load_yaml(DEPLOYMENT_INSTANCE)["run_launcher"]["config"]["network"] == compose["networks"]["default"]["name"]


def test_one_shot_steps_run_first_and_every_other_service_has_a_healthcheck(compose):
    for name, service in compose["services"].items():
        if name in ONE_SHOT:
            assert service["restart"] == "no" and "healthcheck" not in service, name
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        assert service["restart"] == "unless-stopped", name
        for dependency, condition in (service.get("depends_on") or {}).items():
            expected = "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            assert condition["condition"] == expected, (name, dependency)
    for name in set(_pipeline_services(compose)) - ONE_SHOT:
        assert compose["services"][name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert compose["services"]["migrate"]["command"][-1] == "analytics-pipeline db upgrade && dagster instance migrate"


def test_the_code_server_listens_where_the_workspace_looks(compose):
    services = compose["services"]
    port = _environment(services["code-server"])["DAGSTER_CODE_SERVER_PORT"]
    assert services["code-server"]["healthcheck"]["test"][-2:] == ["-p", port]
    assert "-p" not in services["code-server"]["command"]  # the port is that variable's
    for name in ("webserver", "daemon"):
        environment = _environment(services[name])
        assert environment["DAGSTER_CODE_SERVER_HOST"] == "code-server"
        assert environment["DAGSTER_CODE_SERVER_PORT"] == port
        assert services[name]["command"][-2:] == ["-w", "/opt/dagster/app/workspace.yaml"]
    api = services["api"]
    assert api["command"] == ["analytics-pipeline", "api", "--host", "0.0.0.0", "--port", "8080"]
    assert "http://localhost:8080/healthz" in api["healthcheck"]["test"][-1]


def test_secrets_come_from_the_env_file_and_host_ports_stay_local(compose):
    for name, service in compose["services"].items():
        for variable, value in _environment(service).items():
            if SECRET_NAME.search(variable):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]*\}", value), f"{name}.{variable} is not from docker/.env"
            for password in CREDENTIALS_IN_URL.findall(value):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]*\}", password), f"{name}.{variable} holds a password"
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond this machine"
    secrets = {name: value for name, value in env_file(ENV_EXAMPLE).items() if SECRET_NAME.search(name)}
    assert secrets and not any(secrets.values()), "docker/.env.example holds a secret value"
    ignored = subprocess.run(["git", "check-ignore", "-q", "docker/.env"], cwd=REPO, timeout=30)
    assert ignored.returncode == 0, "docker/.env is not ignored by git"


def test_the_bi_profile_is_optional_and_reads_through_the_read_only_role(compose):
    metabase = compose["services"]["metabase"]
    assert metabase["profiles"] == ["bi"]
    # The Kinesis consumer is optional too (it needs a stream): docker compose --profile kinesis up.
    assert compose["services"]["consumer"]["profiles"] == ["kinesis"]
    assert all("profiles" not in service for name, service in compose["services"].items()
               if name not in ("metabase", "consumer"))
    init = (REPO / "docker" / "postgres" / "init-databases.sh").read_text()
    assert "CREATE ROLE analytics_bi_reader LOGIN PASSWORD :'bi_reader_password'" in init
    mounted = compose["services"]["postgres"]["volumes"]
    assert "./postgres/init-databases.sh:/docker-entrypoint-initdb.d/10-init-databases.sh:ro" in mounted
