"""The export contract's curl examples (seed 002), run literally with the real ``curl`` binary
against the API on a loopback port: only the host, ``{orgId}``, ``{token}`` and ``{jobId}`` are
filled in (and curl is told to print the status). The jobs they create are run the way the
daemon runs them (export_request_sensor, then export_job), and the download is followed to the
bytes: their sha256 is the job's checksum and their totals reconcile with the rollups."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shlex
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from analytics_pipeline.api.security import parse_key
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.api.conftest import REPO
from analytics_pipeline_tests.api.data import (
    EVENTS,
    FEBRUARY,
    JANUARY,
    ORG,
    export_resources,
    load_january,
    run_pending_exports,
)

SEED = REPO.parent / "shared" / "seeds" / "002_63c812bf60356cc9.txt"
SEED_HOST = "https://api.ai-aas.local"
CURL = shutil.which("curl")
pytestmark = pytest.mark.skipif(CURL is None or not SEED.exists(), reason="needs the curl binary and seed 002")


def seed_commands() -> list[list[str]]:
    """Each curl command of the seed's export section, in order, as the shell would split it."""
    text = SEED.read_text().split("# Analytics Export Reports", 1)[1]
    commands: list[list[str]] = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for token in shlex.split(block.replace("\\\n", " "), comments=True):
            if token == "curl":
                commands.append([])
            commands[-1].append(token)
    return commands


def run_curl(command: list[str], api, token: str, job_id: str = "", output: Path | None = None) -> tuple[int, bytes]:
    args = [arg.replace(SEED_HOST, api.url).replace("{orgId}", ORG).replace("{token}", token)
            .replace("{jobId}", job_id) for arg in command]
    assert args[0] == "curl"
    out = output or Path(api.settings.home) / "curl-body"
    out.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([CURL, "-sS", "-o", str(out), "-w", "%{http_code}", *args[1:]], capture_output=True,
                            timeout=60, check=True)
    return int(result.stdout.decode()), out.read_bytes()


def test_the_seed_has_the_examples_this_test_runs():
    commands = seed_commands()
    assert [c[1:3] for c in commands] == [
        ["-X", "POST"], ["https://api.ai-aas.local/analytics/v1/orgs/{orgId}/exports/{jobId}", "-H"],
        ["-L", "https://api.ai-aas.local/analytics/v1/orgs/{orgId}/exports/{jobId}/download"],
        ["https://api.ai-aas.local/analytics/v1/orgs/{orgId}/exports", "-H"],
        ["https://api.ai-aas.local/analytics/v1/orgs/{orgId}/exports?status=succeeded", "-H"],
        ["-X", "POST"]]
    assert json.loads(commands[0][commands[0].index("-d") + 1])["timeRange"]["end"] == "2024-01-31T23:59:59Z"
    assert json.loads(commands[-1][commands[-1].index("-d") + 1])["timeRange"]["end"] == "2024-02-01T00:00:00Z"


@pytest.mark.parametrize("store", ["s3", "local"])
def test_the_seed_curl_calls_from_request_to_downloaded_bytes(store, start_api, warehouse_url, dagster_instance,
                                                              s3_endpoint, s3_bucket, tmp_path):
    load_january(warehouse_url)
    if store == "s3":
        exports_url = f"s3://{s3_bucket}/exports"
        api = start_api(warehouse_url, exports_url=exports_url, s3_endpoint=s3_endpoint)
        resources = export_resources(warehouse_url, exports_url=exports_url, s3_endpoint=s3_endpoint,
                                     store_root=f"s3://{s3_bucket}")
    else:
        exports_url = str(tmp_path / "exports")
        api = start_api(warehouse_url, exports_url=exports_url)
        resources = export_resources(warehouse_url, exports_url=exports_url)
    token, key_id = api.key(ORG, name="finance-reporting")
    create_inclusive, get_status, download, list_all, list_succeeded, create_exclusive = seed_commands()

    # 1. Create: the inclusive end of the first example and the exclusive one of the monthly workflow.
    status, body = run_curl(create_inclusive, api, token)
    assert status == 202, body
    created = json.loads(body)
    seed_response = {"orgId": ORG, "status": "pending", "granularity": "daily",
                     "timeRange": {"start": "2024-01-01T00:00:00Z", "end": "2024-01-31T23:59:59Z"}}
    assert {k: created[k] for k in seed_response} == seed_response
    assert set(created) >= {"jobId", "createdAt"} and created["createdAt"] == "2024-02-01T09:00:00Z"
    status, body = run_curl(create_exclusive, api, token)
    assert status == 202, body
    other = json.loads(body)
    assert other["timeRange"] == {"start": "2024-01-01T00:00:00Z", "end": "2024-02-01T00:00:00Z"}
    with connect(warehouse_url) as conn:  # both forms mean the same month
        ranges = conn.execute("SELECT range_start, range_end FROM analytics_export_jobs").fetchall()
    assert ranges == [(JANUARY, FEBRUARY)] * 2

    # 2. Before a run: pending, and the download is refused with 409.
    status, body = run_curl(get_status, api, token, created["jobId"])
    assert (status, json.loads(body)["status"]) == (200, "pending")
    status, body = run_curl(download, api, token, created["jobId"])
    assert (status, json.loads(body)["error"]["code"]) == (409, "export_not_ready")

    # 3. The daemon's part: the sensor requests one run per pending job; the runs export.
    outcomes = run_pending_exports(dagster_instance, resources)
    assert len(outcomes) == 2 and all(o.success for o in outcomes)
    assert {o.dagster_run.tags["analytics/export_job_id"] for o in outcomes} == {created["jobId"], other["jobId"]}
    assert run_pending_exports(dagster_instance, resources) == []  # nothing pending any more

    # 4. Status: the seed's fields, initiatedBy the key's name.
    status, body = run_curl(get_status, api, token, created["jobId"])
    assert status == 200
    job = json.loads(body)
    assert job["status"] == "succeeded" and job["initiatedBy"] == "finance-reporting"
    assert job["completedAt"] == "2024-02-01T09:00:00Z" and job["rowCount"] > 31
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", job["checksum"])
    assert set(job) >= {"jobId", "orgId", "status", "granularity", "timeRange", "createdAt", "completedAt",
                        "outputUri", "checksum", "rowCount", "initiatedBy"}

    # 5. Download (curl -L follows the 302): the bytes are the checksum's, the totals the rollups'.
    status, data = run_curl(download, api, token, created["jobId"], output=tmp_path / "export.csv")
    assert status == 200
    assert "sha256:" + hashlib.sha256(data).hexdigest() == job["checksum"]
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert len(rows) == job["rowCount"] and {r["organization_id"] for r in rows} == {ORG}
    source = [e for e in EVENTS if e[1] == ORG and JANUARY <= e[0] < FEBRUARY]
    assert sum(int(r["request_count"]) for r in rows) == len(source)
    assert sum(int(r["tokens_total"]) for r in rows) == sum(e[7] + e[8] for e in source)
    assert sum(int(r["error_count"]) for r in rows) == sum(1 for e in source if e[4] >= 400)
    with connect(warehouse_url) as conn:
        [rollup_cost] = conn.execute(
            "SELECT sum(cost_total) FROM analytics_hourly_rollups WHERE organization_id = %s "
            "AND bucket_start >= %s AND bucket_start < %s", (ORG, JANUARY, FEBRUARY)).fetchone()
    assert abs(sum(Decimal(r["cost_total"]) for r in rows) - rollup_cost) <= Decimal("0.00005") * len(rows)
    assert "(none)" in {r["model_id"] for r in rows}  # model-less requests, distinct from aggregated rows

    # 6. List, and list by status.
    status, body = run_curl(list_all, api, token)
    listed = json.loads(body)
    # Newest first: both were created at the frozen NOW, so the job id breaks the tie (descending).
    assert status == 200
    assert [j["jobId"] for j in listed["jobs"]] == sorted([created["jobId"], other["jobId"]], reverse=True)
    assert listed["nextCursor"] is None
    status, body = run_curl(list_succeeded, api, token)
    assert status == 200 and {j["status"] for j in json.loads(body)["jobs"]} == {"succeeded"}

    # 7. The audit trail: two creates and the download, by this key, never its secret.
    with connect(warehouse_url) as conn:
        audit = conn.execute("SELECT action, status_code, outcome, key_id, organization_id FROM analytics_api_audit "
                             "ORDER BY audit_id").fetchall()
        dumped = " ".join(str(row) for row in conn.execute("SELECT * FROM analytics_api_audit").fetchall())
    assert ("create_export", 202, "ok", key_id, ORG) in audit
    assert ("download_export", 409, "export_not_ready", key_id, ORG) in audit
    assert ("download_export", 302, "ok", key_id, ORG) in audit
    assert parse_key(token)[1] not in dumped and token not in dumped
