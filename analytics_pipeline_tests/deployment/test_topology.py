"""The deployment's topology on one machine, as processes (no Docker engine here): the compose
stack's migration step, code server, webserver and daemon, started with the compose file's own
commands and healthchecks, the deployment's instance (docker/dagster.yaml, its storage in a fresh
PostgreSQL database, its compute logs on an S3 endpoint) and workspace (the gRPC code server).

Only the run launcher differs: runs are processes of the code server (Dagster's default launcher)
instead of containers. A run submitted through the webserver's GraphQL API is dequeued by the
daemon and succeeds; then the daemon's usage_log_sensor launches an ingest run for a new log
object by itself. Every process is stopped at the end, failed or not (its whole process group).
"""

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
import requests
import yaml

from analytics_pipeline.warehouse.database import connect, dagster_storage_url
from analytics_pipeline_tests.deployment.files import (
    COMPOSE,
    DEPLOYMENT_INSTANCE,
    DEPLOYMENT_WORKSPACE,
    REPO,
    load_yaml,
    with_run_launcher,
)

pytestmark = [pytest.mark.slow,
              # dagster_graphql's client calls gql the way gql 4 deprecates; not ours to change.
              pytest.mark.filterwarnings("ignore:Using variable_values and operation_name:DeprecationWarning")]

DEFAULT_RUN_LAUNCHER = {"module": "dagster._core.launcher", "class": "DefaultRunLauncher"}
LOCATION = "analytics_pipeline"
SENSOR = {"repositoryLocationName": LOCATION, "repositoryName": "__repository__", "sensorName": "usage_log_sensor"}
STARTUP_TIMEOUT = 240
RUN_TIMEOUT = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Processes:
    """Long-running subprocesses, each the leader of its own process group, logged to files."""

    def __init__(self, log_dir: Path, env: dict[str, str]):
        self.log_dir, self.env = log_dir, env
        self.started: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str]) -> None:
        with open(self.log_dir / f"{name}.log", "wb") as log:
            self.started[name] = subprocess.Popen(argv, env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                                  start_new_session=True)

    def run(self, argv: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(argv, env=self.env, cwd=REPO, capture_output=True, text=True, timeout=timeout)

    def logs(self, lines: int = 40) -> str:
        tails = []
        for name in self.started:
            text = (self.log_dir / f"{name}.log").read_text(errors="replace").splitlines()
            tails.append(f"--- {name} (last {lines} lines) ---\n" + "\n".join(text[-lines:]))
        return "\n".join(tails)

    def check_alive(self) -> None:
        for name, process in self.started.items():
            if process.poll() is not None:
                pytest.fail(f"{name} exited with {process.returncode}\n{self.logs()}")

    def stop_all(self) -> None:
        """SIGTERM to every group (children too: the code server's runs), then SIGKILL what is left."""
        for process in reversed(self.started.values()):
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 20
        for process in reversed(self.started.values()):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(process.pid, signal.SIGKILL)  # the group may outlive its leader
            except ProcessLookupError:
                pass
            process.wait(timeout=10)


def wait_until(condition, timeout: float, processes: Processes, what: str, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        processes.check_alive()
        result = condition()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{processes.logs()}")


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    response = requests.post(f"http://127.0.0.1:{port}/graphql", json={"query": query, "variables": variables or {}},
                             timeout=30)
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def compose_command(service: str, replacements: dict[str, str]) -> list[str]:
    """The compose file's command of ``service``, with its container paths and ports replaced."""
    return [replacements.get(arg, arg) for arg in load_yaml(COMPOSE)["services"][service]["command"]]


def compose_healthcheck(service: str, replacements: dict[str, str]) -> list[str]:
    test = load_yaml(COMPOSE)["services"][service]["healthcheck"]["test"]
    assert test[0] == "CMD"
    argv = test[1:]
    for old, new in replacements.items():
        argv = [arg.replace(old, new) for arg in argv]
    return argv


@pytest.fixture
def deployment(tmp_path, empty_database_url, warehouse_url, s3_endpoint, s3_client, monkeypatch):
    """The processes of the compose stack, on this machine; yields what the test needs to reach them."""
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    compose_instance = load_yaml(DEPLOYMENT_INSTANCE)
    instance_config = with_run_launcher(compose_instance, DEFAULT_RUN_LAUNCHER)
    assert with_run_launcher(instance_config, None) == with_run_launcher(compose_instance, None)  # nothing else
    (dagster_home / "dagster.yaml").write_text(yaml.safe_dump(instance_config, sort_keys=False))

    compute_logs_bucket = f"compute-logs-{uuid.uuid4().hex[:8]}"
    s3_client.create_bucket(Bucket=compute_logs_bucket)
    code_port, web_port = free_port(), free_port()
    logs_dir = tmp_path / "logs"
    logs_dir.mkdir()
    settings = {
        "DAGSTER_HOME": str(dagster_home),
        "DAGSTER_PG_URL": dagster_storage_url(empty_database_url),  # no schema yet: the migration step makes it
        "DAGSTER_COMPUTE_LOGS_BUCKET": compute_logs_bucket,
        "DAGSTER_CODE_SERVER_HOST": "127.0.0.1",
        "DAGSTER_CODE_SERVER_PORT": str(code_port),
        "ANALYTICS_HOME": str(tmp_path / "home"),
        "ANALYTICS_DATABASE_URL": warehouse_url,
        "ANALYTICS_LOGS_URL": str(logs_dir),
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_REGION": "us-east-1",
    }
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("ANALYTICS_", "DAGSTER_", "AWS_"))}
    env |= {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", **settings,
            "PYTHONPATH": str(REPO), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for name, value in settings.items():  # the test's own instance reads the same storage
        monkeypatch.setenv(name, value)

    processes = Processes(tmp_path, env)
    paths = {"/opt/dagster/app/workspace.yaml": str(DEPLOYMENT_WORKSPACE), "0.0.0.0": "127.0.0.1"}
    try:
        migrated = processes.run(compose_command("migrate", {}), timeout=300)
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr

        processes.start("code-server", compose_command("code-server", paths))
        health = compose_healthcheck("code-server", {"4000": str(code_port)})
        wait_until(lambda: processes.run(health, timeout=30).returncode == 0, STARTUP_TIMEOUT, processes,
                   "the code server's healthcheck")

        processes.start("webserver", compose_command("webserver", {**paths, "3000": str(web_port)}))
        health = compose_healthcheck("webserver", {"localhost:3000": f"127.0.0.1:{web_port}", "python": sys.executable})
        wait_until(lambda: processes.run(health, timeout=30).returncode == 0, STARTUP_TIMEOUT, processes,
                   "the webserver's healthcheck")
        wait_until(lambda: location_loaded(web_port), STARTUP_TIMEOUT, processes, "the code location in the webserver")

        # The ingest sensor runs by default; it is held off until the test has a log object for it.
        state = graphql(web_port, "query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) "
                                  "{ ... on Sensor { sensorState { id status } } } }", {"s": SENSOR})
        stopped = graphql(web_port, "mutation($id: String!) { stopSensor(id: $id) { __typename "
                                    "... on StopSensorMutationResult { instigationState { status } } } }",
                          {"id": state["sensorOrError"]["sensorState"]["id"]})
        assert stopped["stopSensor"]["instigationState"]["status"] == "STOPPED", stopped

        processes.start("daemon", compose_command("daemon", paths))
        health = compose_healthcheck("daemon", {})
        wait_until(lambda: processes.run(health, timeout=60).returncode == 0, STARTUP_TIMEOUT, processes,
                   "the daemon's healthcheck (its heartbeats in the shared storage)", interval=3)
        with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
            yield {"web_port": web_port, "instance": instance, "processes": processes, "logs_dir": logs_dir,
                   "warehouse_url": warehouse_url, "s3_client": s3_client, "compute_logs_bucket": compute_logs_bucket}
    finally:
        processes.stop_all()


def location_loaded(web_port: int) -> bool:
    data = graphql(web_port, "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
                             "locationOrLoadError { __typename ... on PythonError { message } } } } } }")
    entries = {entry["name"]: entry for entry in data["workspaceOrError"]["locationEntries"]}
    entry = entries.get(LOCATION)
    if entry and entry["locationOrLoadError"] and entry["locationOrLoadError"]["__typename"] == "PythonError":
        pytest.fail(f"the code location failed to load: {entry['locationOrLoadError']['message']}")
    return bool(entry and entry["loadStatus"] == "LOADED" and entry["locationOrLoadError"])


def write_log_object(logs_dir: Path, now: datetime, events: int) -> str:
    """A gzip JSON Lines log object under the current delivery hour, as Firehose would deliver it."""
    key = f"{now:%Y/%m/%d/%H}/deployment-test-{uuid.uuid4().hex[:8]}.jsonl.gz"
    lines = [json.dumps({"timestamp": (now - timedelta(seconds=5 + i)).isoformat(timespec="milliseconds"),
                         "customer_id": "org_deploy", "request_id": f"req_deploy_{i}", "endpoint": "/v1/chat",
                         "method": "POST", "status_code": 200, "duration_ms": 120 + i, "tokens_input": 100,
                         "tokens_output": 20, "model_id": "claude-sonnet-4"}) for i in range(events)]
    path = logs_dir / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return key


def finished(instance: dg.DagsterInstance, run_id: str):
    run = instance.get_run_by_id(run_id)
    return run if run is not None and run.is_finished else None


def test_a_run_from_the_ui_is_dequeued_by_the_daemon_and_the_sensor_ingests_a_new_object(deployment):
    from dagster_graphql import DagsterGraphQLClient

    instance, processes = deployment["instance"], deployment["processes"]
    client = DagsterGraphQLClient("127.0.0.1", port_number=deployment["web_port"])

    # 1. A materialization submitted through the webserver: queued, dequeued by the daemon, run.
    run_id = client.submit_job_execution("__ASSET_JOB", repository_location_name=LOCATION,
                                         repository_name="__repository__", asset_selection=["model_prices"])
    run = wait_until(lambda: finished(instance, run_id), RUN_TIMEOUT, processes, "the submitted run")
    assert client.get_run_status(run_id) == dg.DagsterRunStatus.SUCCESS, processes.logs()
    lifecycle = [record.event_log_entry.dagster_event.event_type for record in instance.get_records_for_run(
        run_id, of_type={dg.DagsterEventType.RUN_ENQUEUED, dg.DagsterEventType.RUN_STARTING,
                         dg.DagsterEventType.RUN_START, dg.DagsterEventType.RUN_SUCCESS}).records]
    # Queued by the webserver; only the daemon's run queue moves a queued run on to STARTING.
    assert lifecycle == [dg.DagsterEventType.RUN_ENQUEUED, dg.DagsterEventType.RUN_STARTING,
                         dg.DagsterEventType.RUN_START, dg.DagsterEventType.RUN_SUCCESS]
    assert instance.get_latest_materialization_event(dg.AssetKey("model_prices")).run_id == run.run_id
    captured = deployment["s3_client"].list_objects_v2(Bucket=deployment["compute_logs_bucket"])
    assert captured.get("KeyCount", 0) > 0  # the run's stdout/stderr, where the webserver reads them

    # 2. A new log object: the daemon's sensor launches the ingest run of its delivery hour by itself.
    now = datetime.now(UTC)
    key = write_log_object(deployment["logs_dir"], now, events=25)
    started = graphql(deployment["web_port"], "mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) "
                                              "{ __typename ... on Sensor { sensorState { status } } } }",
                      {"s": SENSOR})
    assert started["startSensor"]["sensorState"]["status"] == "RUNNING", started
    sensor_runs = wait_until(
        lambda: instance.get_runs(dg.RunsFilter(tags={"dagster/sensor_name": "usage_log_sensor"})),
        RUN_TIMEOUT, processes, "a run launched by usage_log_sensor")
    [ingest] = sensor_runs
    assert ingest.tags["dagster/partition"] == now.strftime("%Y-%m-%d-%H:00")
    ingest = wait_until(lambda: finished(instance, ingest.run_id), RUN_TIMEOUT, processes, "the ingest run")
    assert ingest.status == dg.DagsterRunStatus.SUCCESS, processes.logs()
    with connect(deployment["warehouse_url"]) as conn:
        ledger = conn.execute("SELECT status, lines_read, accepted FROM analytics_ingested_objects "
                              "WHERE object_key = %s", (key,)).fetchall()
    assert ledger == [("loaded", 25, 25)]
