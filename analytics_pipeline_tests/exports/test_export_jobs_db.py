"""Ad hoc exports end to end: ``export_job`` on a real PostgreSQL and moto's S3 over HTTP."""

import csv
import hashlib
import io
import json
import random
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import dagster as dg
import pytest
from dagster_aws.s3 import S3Resource

from analytics_pipeline.definitions import resources_from_settings
from analytics_pipeline.defs.exports import jobs as export_jobs_defs
from analytics_pipeline.defs.exports.jobs import export_job
from analytics_pipeline.defs.resources import ObjectStorageResource
from analytics_pipeline.exports.export_jobs import (
    ExportRequest,
    ExportSlot,
    list_jobs,
    mark_failed,
    mark_running,
    mark_succeeded,
    record_request,
)
from analytics_pipeline.exports.usage_csv import (
    MODEL_LESS_ID,
    ExportGranularity,
    build_manifest,
    manifest_bytes,
    query_export_rows,
    render_csv,
)
from analytics_pipeline.money import CSV_QUANTUM, rounded_rows
from analytics_pipeline.rollups.pricing import parse_catalog, replace_model_prices
from analytics_pipeline.rollups.usage import Granularity, replace_usage_rollups
from analytics_pipeline.settings import Settings
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.event_rows import insert_events
from analytics_pipeline_tests.resources import pipeline_resources

HEADER = "bucket_start,organization_id,model_id,request_count,tokens_total,error_count,cost_total"
CATALOG = """model_id,effective_from,price_per_request,price_per_1k_input_tokens,price_per_1k_output_tokens
m1,2025-01-01T00:00:00Z,0.001,0.5,1.5
m2,2025-01-01T00:00:00Z,0.0003,0.07,0.21
*,2025-01-01T00:00:00Z,0.0001,0.1,0.2
"""
# Fixed dates and a clock two weeks later: the last 3 days of the previous month, and around it.
THIS_MONTH = datetime(2026, 11, 1, tzinfo=UTC)
PREV_MONTH = (THIS_MONTH - timedelta(days=1)).replace(day=1)
BASE = THIS_MONTH - timedelta(days=3)  # in the previous month
NOW = THIS_MONTH + timedelta(days=14, hours=9, minutes=30)

def make_events(seed=7):
    """Deterministic events for org-a and org-b over BASE-1 .. BASE+2, plus one at THIS_MONTH 00:00."""
    rng = random.Random(seed)
    events = []
    for org, per_day in (("org-a", 40), ("org-b", 25)):
        for day in range(-1, 3):
            for i in range(per_day):
                hour = (0, 23, 12)[i] if i < 3 else rng.randrange(24)  # both day edges always used
                at = BASE + timedelta(days=day, hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60))
                model = rng.choice(["m1", "m2", None, "zz"])
                status = rng.choice([200, 200, 200, 201, 404, 429, 500, 503])
                events.append((at, org, f"{org}-{day}-{i}", model, status, float(rng.randrange(1, 900)), None,
                               rng.randrange(0, 5000), rng.randrange(0, 3000)))
        events.append((THIS_MONTH, org, f"{org}-next-month", "m1", 200, 5.0, None, 100, 100))
    return events


EVENTS = make_events()


@pytest.fixture
def warehouse(warehouse_url):
    """Prices, events and hourly + daily rollups; returns the database URL."""
    with connect(warehouse_url) as conn:
        with conn.transaction():
            replace_model_prices(conn, parse_catalog(CATALOG))
        insert_events(conn, EVENTS)
        window = (BASE - timedelta(days=1), THIS_MONTH + timedelta(days=1))
        replace_usage_rollups(conn, Granularity.HOURLY, *window)
        replace_usage_rollups(conn, Granularity.DAILY, *window)
    return warehouse_url


def test_object_storage_resource_accepts_a_nested_s3_resource(s3_endpoint, s3_bucket, s3_client):
    # Regression: with `from __future__ import annotations`, `s3: dg.ResourceDependency[S3Resource]` made this
    # construction (and the definitions' resources) raise a pydantic ValidationError.
    res = ObjectStorageResource(exports_url=f"s3://{s3_bucket}/exports", logs_url="", archive_url="",
                                focus_costs_url="", build_metrics_url="",
                                s3=S3Resource(endpoint_url=s3_endpoint, region_name="us-east-1"))
    assert res.exports().url == f"s3://{s3_bucket}/exports/"
    res.exports().write("probe.txt", b"probe")
    assert s3_client.get_object(Bucket=s3_bucket, Key="exports/probe.txt")["Body"].read() == b"probe"
    defaults = resources_from_settings(Settings(exports_url=f"s3://{s3_bucket}/exports"))["object_storage"]
    assert defaults.exports().url == f"s3://{s3_bucket}/exports/"


def resources(warehouse_url, s3_endpoint, bucket, exports_bucket=None):
    return pipeline_resources(warehouse_url, f"s3://{bucket}", s3_endpoint=s3_endpoint, now=NOW,
                              exports_url=f"s3://{exports_bucket or bucket}/exports")


def run_export(job, res, raise_on_error=True, **config):
    return job.execute_in_process(run_config={"ops": {"run_usage_export": {"config": config}}}, resources=res,
                                  instance=dg.DagsterInstance.ephemeral(), raise_on_error=raise_on_error)


@pytest.fixture(autouse=True)
def no_retry_wait(monkeypatch):
    """The op's retry policy (2 retries) has full jitter, up to 5 s + 15 s of sleep; make the jitter 0 so the
    retries still happen but at once."""
    import dagster._core.definitions.policy as policy

    monkeypatch.setattr(policy, "random", lambda: 0.0)


def test_export_rows_carry_integer_counts_and_their_manifest_serializes(warehouse):
    with connect(warehouse) as conn:
        rows = list(query_export_rows(conn, granularity=ExportGranularity.DAILY, range_start=BASE,
                                      range_end=BASE + timedelta(days=1), organization_id="org-a", by_model=True))
    assert rows
    data, totals = render_csv(rows)
    manifest = build_manifest(csv_bytes=data, totals=totals, organization_id="org-a", range_start=BASE,
                              range_end=BASE + timedelta(days=1), granularity=ExportGranularity.DAILY, by_model=True,
                              generated_at=NOW, sources=[])
    assert json.loads(manifest_bytes(manifest))["totals"]["request_count"] == totals.request_count
    assert all(type(v) is int for r in rows for v in (r.request_count, r.tokens_total, r.error_count))


def test_export_job_succeeds_on_its_autocommit_connection(warehouse, s3_endpoint, s3_bucket):
    job_id = str(uuid.uuid4())
    result = run_export(export_job, resources(warehouse, s3_endpoint, s3_bucket), raise_on_error=False,
                        organization_id="org-a", start=BASE.isoformat(), end=(BASE + timedelta(days=1)).isoformat(),
                        job_id=job_id)
    with connect(warehouse) as conn:
        [job] = list_jobs(conn, job_id=uuid.UUID(job_id))
    assert job["status"] == "succeeded", job["error"]
    assert result.success


def expected_lines(conn, org, start, end, granularity, by_model):
    """The CSV rows computed independently from the rollup table, in the documented order."""
    table = "analytics_hourly_rollups" if granularity == "hourly" else "analytics_daily_rollups"
    records = conn.execute(
        f"SELECT bucket_start, model_id, request_count, tokens_total, error_count, cost_total FROM {table} "  # noqa: S608
        "WHERE organization_id = %s AND bucket_start >= %s AND bucket_start < %s", (org, start, end)).fetchall()
    groups = defaultdict(lambda: [0, 0, 0, Decimal(0)])
    raw_cost = Decimal(0)
    for bucket, model, requests, tokens, errors, cost in records:
        bucket = bucket.astimezone(UTC)
        if granularity == "monthly":
            bucket = bucket.replace(day=1)
        key = (bucket, (model or MODEL_LESS_ID) if by_model else None)
        g = groups[key]
        g[0] += requests
        g[1] += tokens
        g[2] += errors
        g[3] += cost
        raw_cost += cost
    lines = []
    ordered = sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] is not None, kv[0][1] or ""))
    # The money module's rule: rows by largest remainder, adding up to the exact total at 4 decimals.
    costs, _ = rounded_rows([cost for _, (*_, cost) in ordered], CSV_QUANTUM)
    for ((bucket, model), (requests, tokens, errors, _)), cost_text in zip(ordered, costs, strict=True):
        lines.append(f"{bucket:%Y-%m-%dT%H:%M:%SZ},{org},{model or ''},{requests},{tokens},{errors},{cost_text}")
    return lines, raw_cost


def events_in(org, start, end):
    return [e for e in EVENTS if e[1] == org and start <= e[0] < end]


def csv_totals(lines):
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    return (len(rows), sum(int(r[3]) for r in rows), sum(int(r[4]) for r in rows), sum(int(r[5]) for r in rows),
            sum((Decimal(r[6]) for r in rows), Decimal(0)))


def read_s3(s3_client, bucket, key):
    return s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()


CASES = [
    # granularity, start, end, by_model
    ("daily", BASE, BASE + timedelta(days=2), True),
    ("daily", BASE - timedelta(days=1), BASE + timedelta(days=1), False),
    ("hourly", BASE + timedelta(hours=5), BASE + timedelta(days=1, hours=3), True),
    ("hourly", BASE, BASE + timedelta(days=3), False),
    ("monthly", PREV_MONTH, THIS_MONTH, True),
    ("monthly", PREV_MONTH, THIS_MONTH, False),
]


@pytest.mark.parametrize("granularity, start, end, by_model", CASES)
def test_export_job_writes_the_csv_the_manifest_and_the_job_row(
        warehouse, s3_endpoint, s3_bucket, s3_client, granularity, start, end, by_model):
    job_id = str(uuid.uuid4())
    result = run_export(export_job, resources(warehouse, s3_endpoint, s3_bucket), organization_id="org-a",
                        start=start.isoformat(), end=end.isoformat().replace("+00:00", "Z"),
                        granularity=granularity, by_model=by_model, initiated_by="tests", job_id=job_id)
    assert result.success
    assert result.output_for_node("run_usage_export") == job_id

    csv_key = f"exports/adhoc/org-a/{job_id}/usage_{granularity}.csv"
    manifest_key = f"exports/adhoc/org-a/{job_id}/usage_{granularity}.manifest.json"
    listed = {o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_bucket)["Contents"]}
    assert listed == {csv_key, manifest_key}
    data = read_s3(s3_client, s3_bucket, csv_key)
    manifest = json.loads(read_s3(s3_client, s3_bucket, manifest_key))
    checksum = "sha256:" + hashlib.sha256(data).hexdigest()

    # Byte format
    text = data.decode("utf-8")
    assert "\r" not in text and text.endswith("\n")
    header, *lines = text[:-1].split("\n")
    assert header == HEADER

    # Content: exactly the rollups of org-a in the range, re-bucketed and rounded
    with connect(warehouse) as conn:
        expected, raw_cost = expected_lines(conn, "org-a", start, end, granularity, by_model)
        [job] = list_jobs(conn, job_id=uuid.UUID(job_id))
    assert lines == expected
    assert all(line.split(",")[1] == "org-a" for line in lines)
    assert "org-b" not in text
    suffix = {"hourly": ":00:00Z", "daily": "T00:00:00Z", "monthly": "-01T00:00:00Z"}[granularity]
    assert all(line.split(",")[0].endswith(suffix) for line in lines)
    if not by_model:
        assert all(line.split(",")[2] == "" for line in lines)
    assert all(len(line.split(",")[6].split(".")[1]) == 4 for line in lines)

    # Reconciliation against the raw events and the rollups
    rows, requests, tokens, errors, cost = csv_totals(lines)
    source = events_in("org-a", start, end)
    assert requests == len(source) > 0
    assert errors == sum(1 for e in source if e[4] >= 400)
    assert tokens == sum(e[7] + e[8] for e in source)
    assert cost == raw_cost.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)

    # Manifest
    assert manifest["checksum"] == checksum
    assert manifest["row_count"] == rows
    assert manifest["totals"] == {"row_count": rows, "request_count": requests, "tokens_total": tokens,
                                  "error_count": errors, "cost_total": str(cost)}
    assert manifest["time_range"] == {"start": f"{start:%Y-%m-%dT%H:%M:%SZ}", "end": f"{end:%Y-%m-%dT%H:%M:%SZ}"}
    assert manifest["granularity"] == granularity and manifest["by_model"] is by_model
    assert manifest["organization_id"] == "org-a"
    table = "analytics_hourly_rollups" if granularity == "hourly" else "analytics_daily_rollups"
    assert manifest["sources"] == [{"table": table, "job_id": job_id}]
    generated = datetime.strptime(manifest["generated_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert generated == NOW.replace(microsecond=0)  # the run's clock

    # Job row
    assert job["status"] == "succeeded"
    assert job["checksum"] == checksum
    assert job["row_count"] == rows
    assert job["organization_id"] == "org-a" and job["granularity"] == granularity and job["by_model"] is by_model
    assert (job["range_start"], job["range_end"]) == (start, end)
    assert job["initiated_by"] == "tests" and job["error"] is None
    assert job["completed_at"] >= job["created_at"]
    # Where the file is, without a credential (the export API signs a fresh URL on each download).
    assert job["output_uri"] == f"{s3_endpoint}/{s3_bucket}/{csv_key}"
    assert "Signature" not in job["output_uri"] and "?" not in job["output_uri"]


def test_other_organizations_and_out_of_range_rows_never_leak(
        warehouse, s3_endpoint, s3_bucket, s3_client):
    for org in ("org-a", "org-b"):
        result = run_export(export_job, resources(warehouse, s3_endpoint, s3_bucket), organization_id=org,
                            start=BASE.isoformat(), end=(BASE + timedelta(days=1)).isoformat(), granularity="daily")
        assert result.success
    with connect(warehouse) as conn:
        jobs = {j["organization_id"]: j for j in list_jobs(conn, status="succeeded")}
    assert set(jobs) == {"org-a", "org-b"}
    for org, other in (("org-a", "org-b"), ("org-b", "org-a")):
        text = read_s3(s3_client, s3_bucket, f"exports/adhoc/{org}/{jobs[org]['job_id']}/usage_daily.csv").decode()
        body = text.splitlines()[1:]
        assert body and other not in text
        assert {line.split(",")[0] for line in body} == {f"{BASE:%Y-%m-%d}T00:00:00Z"}
        assert sum(int(line.split(",")[3]) for line in body) == len(events_in(org, BASE, BASE + timedelta(days=1)))


def test_an_organization_without_usage_gets_a_header_only_csv(
        warehouse, s3_endpoint, s3_bucket, s3_client):
    job_id = str(uuid.uuid4())
    result = run_export(export_job, resources(warehouse, s3_endpoint, s3_bucket), organization_id="org-idle",
                        start=BASE.isoformat(), end=(BASE + timedelta(days=1)).isoformat(), job_id=job_id)
    assert result.success
    data = read_s3(s3_client, s3_bucket, f"exports/adhoc/org-idle/{job_id}/usage_daily.csv")
    assert data == (HEADER + "\n").encode()
    with connect(warehouse) as conn:
        [job] = list_jobs(conn, job_id=uuid.UUID(job_id))
    assert (job["status"], job["row_count"], job["checksum"]) == (
        "succeeded", 0, "sha256:" + hashlib.sha256(data).hexdigest())


INVALID_REQUESTS = [
    ({"start": f"{BASE:%Y-%m-%d}", "end": f"{BASE:%Y-%m-%d}"}, "must be after start"),
    ({"start": f"{BASE - timedelta(days=32):%Y-%m-%d}", "end": f"{BASE:%Y-%m-%d}"}, "at most 31 days"),
    ({"start": f"{BASE:%Y-%m-%d}T01:00:00Z", "end": f"{BASE:%Y-%m-%d}T05:00:00Z"}, "is not aligned to a day"),
    ({"start": f"{BASE:%Y-%m-%d}", "end": f"{BASE + timedelta(days=1):%Y-%m-%d}", "organization_id": "../org-a"},
     "invalid organization id"),
    ({"start": f"{BASE:%Y-%m-%d}", "end": f"{BASE + timedelta(days=1):%Y-%m-%d}", "granularity": "weekly"},
     "granularity must be"),
    ({"start": f"{BASE:%Y-%m-%d}", "end": f"{BASE + timedelta(days=1):%Y-%m-%d}", "job_id": "../../x"},
     "is not a UUID"),
]


def test_a_request_that_fails_validation_raises_and_leaves_no_row(warehouse, s3_endpoint, s3_bucket, s3_client):
    res = resources(warehouse, s3_endpoint, s3_bucket)
    for config, message in INVALID_REQUESTS:
        config = {"organization_id": "org-a", "job_id": str(uuid.uuid4()), **config}
        result = run_export(export_job, res, raise_on_error=False, **config)
        assert not result.success, config
        failures = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
        error = failures[-1].step_failure_data.error if failures else None
        assert error is not None and message in str(error.cause or error), (config, error)
    with pytest.raises(Exception, match="at most 31 days"):  # and execute_in_process raises it by default
        run_export(export_job, res, **{"organization_id": "org-a", **INVALID_REQUESTS[1][0]})
    with connect(warehouse) as conn:
        assert conn.execute("SELECT count(*) FROM analytics_export_jobs").fetchone()[0] == 0
    assert s3_client.list_objects_v2(Bucket=s3_bucket).get("KeyCount", 0) == 0


def test_a_failure_after_recording_leaves_the_row_failed_with_the_error(
        warehouse, s3_endpoint, s3_bucket):
    job_id = str(uuid.uuid4())
    missing = f"missing-{uuid.uuid4().hex[:10]}"
    res = resources(warehouse, s3_endpoint, s3_bucket, exports_bucket=missing)
    with pytest.raises(Exception, match="NoSuchBucket"):
        run_export(export_job, res, organization_id="org-a", start=BASE.isoformat(),
                   end=(BASE + timedelta(days=1)).isoformat(), job_id=job_id)
    with connect(warehouse) as conn:
        jobs = list_jobs(conn)
    assert [j["job_id"] for j in jobs] == [uuid.UUID(job_id)]  # the retries reuse the one row
    [job] = jobs
    assert job["status"] == "failed"
    assert "NoSuchBucket" in job["error"]
    assert job["completed_at"] is not None
    assert job["checksum"] is None and job["output_uri"] is None and job["row_count"] is None


def test_retries_of_one_run_without_a_job_id_leave_one_row(warehouse, s3_endpoint, s3_bucket):
    res = resources(warehouse, s3_endpoint, s3_bucket, exports_bucket=f"missing-{uuid.uuid4().hex[:10]}")
    result = run_export(export_job, res, raise_on_error=False, organization_id="org-a", start=BASE.isoformat(),
                        end=(BASE + timedelta(days=1)).isoformat())
    assert not result.success
    with connect(warehouse) as conn:
        statuses = [j["status"] for j in list_jobs(conn)]
    assert statuses == ["failed"]


def test_a_slot_timeout_after_recording_marks_the_row_failed(warehouse, s3_endpoint, s3_bucket,
                                                             monkeypatch):
    def short_slot(conn, **_):
        return ExportSlot(conn, wait=timedelta(seconds=0.3), poll_seconds=0.05)

    monkeypatch.setattr(export_jobs_defs, "ExportSlot", short_slot)
    job_id = str(uuid.uuid4())
    with connect(warehouse, autocommit=True) as c1, connect(warehouse, autocommit=True) as c2:
        with ExportSlot(c1), ExportSlot(c2):
            with pytest.raises(Exception, match="no export slot free"):
                run_export(export_job, resources(warehouse, s3_endpoint, s3_bucket), organization_id="org-a",
                           start=BASE.isoformat(), end=(BASE + timedelta(days=1)).isoformat(), job_id=job_id)
        [job] = list_jobs(c1, job_id=uuid.UUID(job_id))
    assert job["status"] == "failed"
    assert "no export slot free" in (job["error"] or "")


def test_light_usage_reconciles_despite_4_decimal_rounding(
        warehouse_url, s3_endpoint, s3_bucket, s3_client):
    day = BASE
    with connect(warehouse_url) as conn:
        with conn.transaction():
            replace_model_prices(conn, parse_catalog(
                "model_id,effective_from,price_per_request,price_per_1k_input_tokens,price_per_1k_output_tokens\n"
                "*,2025-01-01T00:00:00Z,0.00014,0,0\n"))
        insert_events(conn, [(day + timedelta(hours=h), "org-light", f"r{h}", "tiny", 200, 1.0, None, 1, 0)
                             for h in range(6)])
        replace_usage_rollups(conn, Granularity.HOURLY, day, day + timedelta(days=1))
    job_id = str(uuid.uuid4())
    result = run_export(export_job, resources(warehouse_url, s3_endpoint, s3_bucket), raise_on_error=False,
                        organization_id="org-light", start=day.isoformat(), end=(day + timedelta(days=1)).isoformat(),
                        granularity="hourly", job_id=job_id)
    assert result.success
    data = read_s3(s3_client, s3_bucket, f"exports/adhoc/org-light/{job_id}/usage_hourly.csv")
    # Six requests of 0.00014: the file totals the exact 0.00084 at 4 decimals (0.0008), not six rows
    # each rounded on its own (0.0006); the rows add up to it by largest remainder.
    text = data.decode()
    assert text.count(",0.0001\n") == 4 and text.count(",0.0002\n") == 2


def test_export_job_runs_are_limited_to_two_by_the_run_queue():
    import yaml

    from analytics_pipeline.defs.shared import EXPORT_TAG

    assert export_job.tags[EXPORT_TAG] == "adhoc"
    config = yaml.safe_load((Path(__file__).resolve().parents[2] / "dagster.yaml").read_text())
    limits = config["run_coordinator"]["config"]["tag_concurrency_limits"]
    assert {"key": EXPORT_TAG, "limit": 2} in limits


def test_export_slots_allow_two_at_once(warehouse_url):
    with (connect(warehouse_url, autocommit=True) as c1, connect(warehouse_url, autocommit=True) as c2,
          connect(warehouse_url, autocommit=True) as c3):
        first, second = ExportSlot(c1, wait=timedelta(0)), ExportSlot(c2, wait=timedelta(0))
        with first, second:
            assert {first.slot, second.slot} == {0, 1}
            began = time.monotonic()
            with pytest.raises(TimeoutError, match="2 exports are running"):
                with ExportSlot(c3, wait=timedelta(seconds=1), poll_seconds=0.1):
                    pass
            assert 0.9 <= time.monotonic() - began < 5
            held = c3.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted").fetchone()[0]
            assert held == 2
            # Release one while the third waits: the third gets that very slot.
            freed = first.slot
            timer = threading.Timer(0.3, first.__exit__, (None, None, None))
            timer.start()
            third = ExportSlot(c3, wait=timedelta(seconds=5), poll_seconds=0.05)
            with third:
                assert third.slot == freed
                assert first.slot is None
            timer.join()
        assert third.slot is None and second.slot is None
        # All released: the locks are gone.
        assert c3.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()[0] == 0


def test_list_jobs_filters_by_status_organization_and_id(warehouse_url):
    with connect(warehouse_url, autocommit=True) as conn:
        def request(org, day):
            r = ExportRequest.parse(organization_id=org, start=BASE + timedelta(days=day),
                                    end=BASE + timedelta(days=day + 1))
            record_request(conn, r)
            return r

        pending = request("org-a", 0)
        running = request("org-a", 1)
        done = request("org-b", 0)
        failed = request("org-b", 1)
        record_request(conn, pending)  # idempotent
        for r in (running, done, failed):
            mark_running(conn, r.job_id, "run-1")
        mark_succeeded(conn, done.job_id, output_key="k", output_uri="http://x/k", checksum="sha256:00", row_count=3)
        mark_failed(conn, failed.job_id, "boom" * 1000)

        def ids(**kw):
            return {j["job_id"] for j in list_jobs(conn, **kw)}

        assert ids() == {pending.job_id, running.job_id, done.job_id, failed.job_id}
        assert ids(status="pending") == {pending.job_id}
        assert ids(status="running") == {running.job_id}
        assert ids(status="succeeded") == {done.job_id}
        assert ids(status="failed") == {failed.job_id}
        assert ids(status="expired") == set()
        assert ids(organization_id="org-b") == {done.job_id, failed.job_id}
        assert ids(status="failed", organization_id="org-a") == set()
        assert ids(job_id=running.job_id) == {running.job_id}
        assert len(list_jobs(conn, limit=2)) == 2
        [f] = list_jobs(conn, status="failed")
        assert len(f["error"]) == 2000 and f["completed_at"] is not None
        [d] = list_jobs(conn, status="succeeded")
        assert (d["checksum"], d["row_count"], d["output_uri"]) == ("sha256:00", 3, "http://x/k")
        # newest first
        created = [j["created_at"] for j in list_jobs(conn)]
        assert created == sorted(created, reverse=True)
