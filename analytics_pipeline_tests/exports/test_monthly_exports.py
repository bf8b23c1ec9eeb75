"""``monthly_usage_exports``: one CSV + manifest per organization with usage, on PostgreSQL and moto's S3."""

import csv
import hashlib
import io
import json
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import dagster as dg
import pytest

from analytics_pipeline.defs.exports.assets import monthly_usage_exports
from analytics_pipeline.exports.usage_csv import MODEL_LESS_ID
from analytics_pipeline.money import CSV_QUANTUM, rounded_rows
from analytics_pipeline.rollups.pricing import parse_catalog, replace_model_prices
from analytics_pipeline.rollups.usage import Granularity, replace_usage_rollups
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.event_rows import insert_events
from analytics_pipeline_tests.resources import pipeline_resources

HEADER = "bucket_start,organization_id,model_id,request_count,tokens_total,error_count,cost_total"
CATALOG = """model_id,effective_from,price_per_request,price_per_1k_input_tokens,price_per_1k_output_tokens
m1,2025-01-01T00:00:00Z,0.001,0.5,1.5
m2,2025-01-01T00:00:00Z,0.0003,0.07,0.21
*,2025-01-01T00:00:00Z,0.0001,0.1,0.2
"""
THIS_MONTH = datetime(2026, 11, 1, tzinfo=UTC)
MONTH = (THIS_MONTH - timedelta(days=1)).replace(day=1)  # the month exported
BASE = THIS_MONTH - timedelta(days=4)  # the month's last 4 days
NOW = THIS_MONTH + timedelta(hours=2)  # when the schedule exports it
PARTITION = f"{MONTH:%Y-%m-%d}"
PREFIX = f"exports/monthly/{MONTH:%Y-%m}/"
ORGS_WITH_USAGE = ("org-a", "org-b", "tenant_abc123")


def make_events(seed=11):
    rng = random.Random(seed)
    events = []
    for org, per_day in (("org-a", 30), ("org-b", 12), ("tenant_abc123", 3)):
        for day in range(4):
            for i in range(per_day):
                hour = (0, 23)[i] if i < 2 else rng.randrange(24)
                at = BASE + timedelta(days=day, hours=hour, minutes=rng.randrange(60))
                events.append((at, org, f"{org}-{day}-{i}", rng.choice(["m1", "m2", None, "zz"]),
                               rng.choice([200, 200, 200, 404, 503]), 10.0, None, rng.randrange(5000),
                               rng.randrange(3000)))
    # Just after the month: never in its export, and org-late has nothing else.
    for org in ("org-a", "org-late"):
        events.append((THIS_MONTH, org, f"{org}-next-month", "m1", 200, 5.0, None, 100, 100))
    return events


EVENTS = make_events()


@pytest.fixture
def warehouse(warehouse_url):
    with connect(warehouse_url) as conn:
        with conn.transaction():
            replace_model_prices(conn, parse_catalog(CATALOG))
        insert_events(conn, EVENTS)
        replace_usage_rollups(conn, Granularity.HOURLY, BASE, THIS_MONTH + timedelta(days=1))
        replace_usage_rollups(conn, Granularity.DAILY, BASE, THIS_MONTH + timedelta(days=1))
    return warehouse_url


def resources(warehouse_url, s3_endpoint, bucket):
    return pipeline_resources(warehouse_url, f"s3://{bucket}", s3_endpoint=s3_endpoint, now=NOW)


def materialize(res, instance=None, raise_on_error=True):
    return dg.materialize([monthly_usage_exports], partition_key=PARTITION, resources=res,
                          instance=instance or dg.DagsterInstance.ephemeral(), raise_on_error=raise_on_error)


def expected_daily_lines(conn, org):
    """The CSV rows computed independently from the daily rollups of the month, in the documented order."""
    records = conn.execute(
        "SELECT bucket_start, model_id, request_count, tokens_total, error_count, cost_total "
        "FROM analytics_daily_rollups WHERE organization_id = %s AND bucket_start >= %s AND bucket_start < %s",
        (org, MONTH, THIS_MONTH)).fetchall()
    groups = defaultdict(lambda: [0, 0, 0, Decimal(0)])
    raw_cost = Decimal(0)
    for bucket, model, requests, tokens, errors, cost in records:
        g = groups[(bucket.astimezone(UTC), model or MODEL_LESS_ID)]
        g[0] += requests
        g[1] += tokens
        g[2] += errors
        g[3] += cost
        raw_cost += cost
    ordered = sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] is not None, kv[0][1] or ""))
    # The money module's rule: rows by largest remainder, adding up to the exact total at 4 decimals.
    costs, _ = rounded_rows([c for _, (*_, c) in ordered], CSV_QUANTUM)
    lines = [f"{bucket:%Y-%m-%dT%H:%M:%SZ},{org},{model or ''},{r},{t},{e},{c}"
             for ((bucket, model), (r, t, e, _)), c in zip(ordered, costs, strict=True)]
    return lines, raw_cost


def keys(s3_client, bucket):
    return {o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])}


def test_one_csv_and_manifest_per_organization_with_usage(warehouse, s3_endpoint, s3_bucket, s3_client):
    instance = dg.DagsterInstance.ephemeral()
    # Lineage: the latest daily-rollup materialization of each day of the month is recorded in the manifest.
    lineage_days = [f"{BASE:%Y-%m-%d}", f"{BASE + timedelta(days=1):%Y-%m-%d}"]
    for day in (lineage_days[0], lineage_days[0], lineage_days[1], f"{THIS_MONTH:%Y-%m-%d}"):
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key="daily_usage_rollups", partition=day))

    result = materialize(resources(warehouse, s3_endpoint, s3_bucket), instance=instance)
    assert result.success

    stems = {org: f"{PREFIX}{org}/usage_daily_{MONTH:%Y-%m}" for org in ORGS_WITH_USAGE}
    assert keys(s3_client, s3_bucket) == {s + ext for s in stems.values() for ext in (".csv", ".manifest.json")}

    grand_requests, grand_cost, grand_rows = 0, Decimal(0), 0
    with connect(warehouse) as conn:
        for org, stem in stems.items():
            data = s3_client.get_object(Bucket=s3_bucket, Key=stem + ".csv")["Body"].read()
            manifest = json.loads(s3_client.get_object(Bucket=s3_bucket, Key=stem + ".manifest.json")["Body"].read())
            text = data.decode("utf-8")
            assert "\r" not in text and text.endswith("\n")
            header, *lines = text[:-1].split("\n")
            assert header == HEADER

            expected, raw_cost = expected_daily_lines(conn, org)
            assert lines == expected
            rows = list(csv.reader(io.StringIO("\n".join(lines))))
            assert all(len(r) == 7 and r[1] == org for r in rows)
            assert all(MONTH <= datetime.strptime(r[0], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) < THIS_MONTH
                       and r[0].endswith("T00:00:00Z") for r in rows)
            assert all(len(r[6].split(".")[1]) == 4 for r in rows)
            for other in {"org-a", "org-b", "tenant_abc123", "org-late"} - {org}:
                assert f",{other}," not in text

            requests = sum(int(r[3]) for r in rows)
            tokens = sum(int(r[4]) for r in rows)
            errors = sum(int(r[5]) for r in rows)
            cost = sum((Decimal(r[6]) for r in rows), Decimal(0))
            source = [e for e in EVENTS if e[1] == org and MONTH <= e[0] < THIS_MONTH]
            assert requests == len(source) and errors == sum(1 for e in source if e[4] >= 400)
            assert tokens == sum(e[7] + e[8] for e in source)
            # Reconciles with the daily rollups: the file's total is their exact sum at 4 decimals.
            assert cost == raw_cost.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)

            assert manifest["checksum"] == "sha256:" + hashlib.sha256(data).hexdigest()
            assert manifest["row_count"] == len(rows)
            assert manifest["totals"] == {"row_count": len(rows), "request_count": requests, "tokens_total": tokens,
                                          "error_count": errors, "cost_total": str(cost)}
            assert manifest["organization_id"] == org
            assert manifest["time_range"] == {"start": f"{MONTH:%Y-%m-%d}T00:00:00Z",
                                              "end": f"{THIS_MONTH:%Y-%m-%d}T00:00:00Z"}
            assert manifest["granularity"] == "daily" and manifest["by_model"] is True
            assert [s["partition"] for s in manifest["sources"]] == lineage_days
            assert all(s["asset"] == "daily_usage_rollups" for s in manifest["sources"])
            grand_requests += requests
            grand_rows += len(rows)
            grand_cost += cost

    metadata = result.asset_materializations_for_node("monthly_usage_exports")[0].metadata
    assert metadata["organizations"].value == 3
    assert metadata["files_written"].value == 6
    assert metadata["request_count"].value == grand_requests
    assert metadata["cost_total"].value == float(grand_cost)
    assert metadata["dagster/row_count"].value == grand_rows
    # The month's exports, one row per organization (the project's markdown table).
    table = metadata["exports"].value.splitlines()
    assert table[0] == "| organization | rows | requests | tokens | errors | cost | csv |"
    assert sorted(line.split(" | ")[0].removeprefix("| ") for line in table[2:]) == sorted(ORGS_WITH_USAGE)

    # Re-materializing rewrites the same CSVs in place (same keys, same bytes).
    before = {k: s3_client.get_object(Bucket=s3_bucket, Key=k)["Body"].read() for k in keys(s3_client, s3_bucket)}
    assert materialize(resources(warehouse, s3_endpoint, s3_bucket)).success
    assert keys(s3_client, s3_bucket) == set(before)
    for key, data in before.items():
        if key.endswith(".csv"):
            assert s3_client.get_object(Bucket=s3_bucket, Key=key)["Body"].read() == data


def test_a_month_without_usage_writes_nothing(warehouse_url, s3_endpoint, s3_bucket, s3_client):
    with connect(warehouse_url) as conn:  # usage only after the month
        with conn.transaction():
            replace_model_prices(conn, parse_catalog(CATALOG))
        insert_events(conn, [(THIS_MONTH, "org-late", "r1", "m1", 200, 1.0, None, 1, 1)])
        replace_usage_rollups(conn, Granularity.HOURLY, MONTH, THIS_MONTH + timedelta(days=1))
        replace_usage_rollups(conn, Granularity.DAILY, MONTH, THIS_MONTH + timedelta(days=1))
    result = materialize(resources(warehouse_url, s3_endpoint, s3_bucket))
    assert result.success
    assert keys(s3_client, s3_bucket) == set()
    metadata = result.asset_materializations_for_node("monthly_usage_exports")[0].metadata
    assert (metadata["organizations"].value, metadata["files_written"].value) == (0, 0)


def test_monthly_export_materializes_as_written(warehouse, s3_endpoint, s3_bucket, s3_client):
    result = materialize(resources(warehouse, s3_endpoint, s3_bucket), raise_on_error=False)
    assert result.success
    assert len(keys(s3_client, s3_bucket)) == 6


def test_each_monthly_export_has_one_job_row_initiated_by_the_schedule(warehouse, s3_endpoint, s3_bucket, s3_client):
    from analytics_pipeline.exports.export_jobs import list_jobs

    materialize(resources(warehouse, s3_endpoint, s3_bucket))
    with connect(warehouse) as conn:
        first = {job["organization_id"]: job for job in list_jobs(conn)}
    assert set(first) == set(ORGS_WITH_USAGE)
    for org, job in first.items():
        manifest = json.loads(s3_client.get_object(
            Bucket=s3_bucket, Key=f"{PREFIX}{org}/usage_daily_{MONTH:%Y-%m}.manifest.json")["Body"].read())
        assert job["status"] == "succeeded" and job["initiated_by"] == "dagster"  # a manual materialization
        assert job["checksum"] == manifest["checksum"] and job["row_count"] == manifest["row_count"]
        assert (job["range_start"], job["range_end"], job["granularity"]) == (MONTH, THIS_MONTH, "daily")
        assert job["completed_at"] == NOW and job["output_key"] == f"monthly/{MONTH:%Y-%m}/{org}/" \
                                                                   f"usage_daily_{MONTH:%Y-%m}.csv"
        assert job["output_uri"] == f"{s3_endpoint}/{s3_bucket}/exports/{job['output_key']}"
    # Re-materialized by the schedule an hour later: the same rows, refreshed.
    later = pipeline_resources(warehouse, f"s3://{s3_bucket}", s3_endpoint=s3_endpoint, now=NOW + timedelta(hours=1))
    result = dg.materialize([monthly_usage_exports], partition_key=PARTITION, resources=later,
                            instance=dg.DagsterInstance.ephemeral(),
                            tags={"dagster/schedule_name": "monthly_exports_job_schedule"})
    with connect(warehouse) as conn:
        again = {job["organization_id"]: job for job in list_jobs(conn)}
    assert {org: job["job_id"] for org, job in again.items()} == {org: job["job_id"] for org, job in first.items()}
    assert all(job["initiated_by"] == "schedule" and job["completed_at"] == NOW + timedelta(hours=1)
               and job["run_id"] == result.run_id and job["created_at"] == NOW for job in again.values())
