"""The export API's behaviour over HTTP: idempotency, keys, tenant scope, the per-organization
cap, signed downloads, failures, stuck jobs, pagination, the warehouse down, the audit trail."""

from __future__ import annotations

import hashlib
import logging
import threading
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from analytics_pipeline.api.app import RedactSignatures
from analytics_pipeline.api.keys import revoke_key
from analytics_pipeline.defs.exports.jobs import export_job
from analytics_pipeline.defs.resources import WarehouseResource
from analytics_pipeline.defs.shared import EXPORT_JOB_ID_TAG, EXPORT_TAG
from analytics_pipeline.exports.export_jobs import ExportRequest, record_request
from analytics_pipeline.rollups.latency import RELATIVE_ERROR
from analytics_pipeline.warehouse.database import connect, drop_database
from analytics_pipeline_tests.api.conftest import NOW, FrozenClock
from analytics_pipeline_tests.api.data import ORG, export_resources, load_january, run_pending_exports
from analytics_pipeline_tests.api.helpers import JOBS, add_job, create_body


def post(api, token, org=ORG, body=None, **headers):
    return api.client.post(JOBS.format(org=org), json=body or create_body(), headers={**api.auth(token), **headers})


def error_of(response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_an_idempotent_retry_returns_the_same_job(api):
    token, _ = api.key(ORG)
    first = post(api, token, **{"Idempotency-Key": "retry-1"})
    again = post(api, token, **{"Idempotency-Key": "retry-1"})
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    # The exclusive form of the same month is the same request.
    same = post(api, token, body=create_body(end="2024-02-01T00:00:00Z"), **{"Idempotency-Key": "retry-1"})
    assert same.status_code == 202 and same.json()["jobId"] == first.json()["jobId"]
    # Another request under the key is refused; another key gets a new job.
    reused = post(api, token, body=create_body(end="2024-01-15T00:00:00Z"), **{"Idempotency-Key": "retry-1"})
    assert error_of(reused) == (409, "idempotency_key_reused")
    other = post(api, token, **{"Idempotency-Key": "retry-2"})
    assert other.status_code == 202 and other.json()["jobId"] != first.json()["jobId"]
    without = post(api, token)
    assert without.json()["jobId"] not in (first.json()["jobId"], other.json()["jobId"])
    with connect(api.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM analytics_export_jobs").fetchone()[0] == 3


def test_concurrent_retries_with_one_key_make_one_job(start_api, warehouse_url):
    api = start_api(warehouse_url)
    token, _ = api.key(ORG)
    results = []

    def send():
        with httpx.Client(base_url=api.url, timeout=30) as client:
            results.append(client.post(JOBS.format(org=ORG), json=create_body(),
                                       headers={**api.auth(token), "Idempotency-Key": "same"}))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {r.status_code for r in results} == {202}
    assert len({r.json()["jobId"] for r in results}) == 1


def test_revoked_expired_unknown_and_wrong_keys_are_refused(api):
    token, key_id = api.key(ORG)
    short, _ = api.key(ORG, name="short-lived", expires_in=timedelta(days=1))
    job_id = add_job(api, ORG)
    path = f"{JOBS.format(org=ORG)}/{job_id}"
    assert api.client.get(path, headers=api.auth(short)).status_code == 200
    api.clock.advance(timedelta(days=1))
    assert error_of(api.client.get(path, headers=api.auth(short))) == (401, "expired_api_key")
    assert api.client.get(path, headers=api.auth(token)).status_code == 200
    with connect(api.database_url, autocommit=True) as conn:
        assert revoke_key(conn, key_id, api.clock.now)
    revoked = api.client.get(path, headers=api.auth(token))
    assert error_of(revoked) == (401, "revoked_api_key") and revoked.headers["WWW-Authenticate"] == "Bearer"
    assert error_of(post(api, token)) == (401, "revoked_api_key")
    prefix, key, secret = token.split("_", 2)
    wrong_secret = f"{prefix}_{key}_{'A' * len(secret)}"
    unknown = f"{prefix}_{'0' * 12}_{secret}"
    for bad in (wrong_secret, unknown):
        assert error_of(api.client.get(path, headers=api.auth(bad))) == (401, "invalid_api_key")
    with connect(api.database_url) as conn:
        audited = conn.execute("SELECT outcome, key_id, client_address FROM analytics_api_audit "
                               "WHERE status_code = 401 ORDER BY audit_id").fetchall()
    assert [row[0] for row in audited] == ["expired_api_key", "revoked_api_key", "revoked_api_key",
                                           "invalid_api_key", "invalid_api_key"]
    assert audited[1] == ("revoked_api_key", key_id, "127.0.0.1")


def test_another_organizations_job_does_not_exist_for_a_key(api):
    theirs, _ = api.key("org-b", name="org-b finance")
    mine = add_job(api, ORG, status="succeeded")
    assert error_of(api.client.get(f"{JOBS.format(org=ORG)}/{mine}", headers=api.auth(theirs))) == \
        (403, "organization_out_of_scope")
    as_theirs = api.client.get(f"{JOBS.format(org='org-b')}/{mine}", headers=api.auth(theirs))
    missing = api.client.get(f"{JOBS.format(org='org-b')}/{uuid.uuid4()}", headers=api.auth(theirs))
    assert error_of(as_theirs) == error_of(missing) == (404, "export_not_found")
    assert as_theirs.json()["error"]["message"].replace(str(mine), "X") == \
        missing.json()["error"]["message"].replace(missing.url.path.rsplit("/", 1)[1], "X")
    download = api.client.get(f"{JOBS.format(org='org-b')}/{mine}/download", headers=api.auth(theirs))
    assert error_of(download) == (404, "export_not_found")
    assert api.client.get(JOBS.format(org="org-b"), headers=api.auth(theirs)).json()["jobs"] == []
    finance, _ = api.key(None, name="finance", finance=True)
    assert api.client.get(f"{JOBS.format(org=ORG)}/{mine}", headers=api.auth(finance)).status_code == 200
    assert api.client.get(f"{JOBS.format(org='org-b')}/{mine}", headers=api.auth(finance)).status_code == 404


def test_at_most_ten_pending_or_running_jobs_per_organization(api):
    token, _ = api.key(ORG)
    other, _ = api.key("org-b")
    for _ in range(9):
        assert post(api, token).status_code == 202
    add_job(api, ORG, status="running")  # running counts too
    refused = post(api, token)
    assert error_of(refused) == (429, "too_many_active_jobs") and refused.headers["Retry-After"] == "60"
    assert post(api, other, org="org-b").status_code == 202  # per organization
    with connect(api.database_url, autocommit=True) as conn:
        conn.execute("UPDATE analytics_export_jobs SET status = 'failed' WHERE job_id = "
                     "(SELECT job_id FROM analytics_export_jobs WHERE organization_id = %s LIMIT 1)", (ORG,))
    assert post(api, token).status_code == 202
    assert post(api, token).status_code == 429


def test_the_cap_holds_under_concurrent_requests(api):
    token, _ = api.key(ORG)
    statuses = []

    def send():
        with httpx.Client(base_url=api.url, timeout=30) as client:
            statuses.append(client.post(JOBS.format(org=ORG), json=create_body(), headers=api.auth(token)).status_code)

    threads = [threading.Thread(target=send) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [202] * 10 + [429] * 6


def test_local_downloads_are_signed_expire_and_refuse_tampering(api):
    token, _ = api.key(ORG)
    job_id = add_job(api, ORG, status="succeeded", content=b"the,csv\n1,2\n")
    download = api.client.get(f"{JOBS.format(org=ORG)}/{job_id}/download", headers=api.auth(token))
    assert download.status_code == 302 and download.headers["Cache-Control"] == "no-store"
    location = download.headers["Location"]
    parts = urllib.parse.urlsplit(location)
    assert location.startswith(f"{api.url}/analytics/v1/files/{job_id}/usage_daily.csv?")
    query = dict(urllib.parse.parse_qsl(parts.query))
    assert int(query["expires"]) == int((NOW + timedelta(hours=24)).timestamp())
    fetched = httpx.get(location)  # no API key needed: the signature is the authorization
    assert fetched.status_code == 200 and fetched.content == b"the,csv\n1,2\n"
    assert fetched.headers["content-type"].startswith("text/csv")

    def variant(**changes) -> str:
        path = changes.pop("path", parts.path)
        return urllib.parse.urlunsplit(parts._replace(path=path, query=urllib.parse.urlencode({**query, **changes})))

    flipped = query["signature"][:-1] + ("0" if query["signature"][-1] != "0" else "1")
    other_job = add_job(api, ORG, status="succeeded")
    for tampered in (variant(signature=flipped), variant(expires=str(int(query["expires"]) + 3600)),
                     variant(path=parts.path.replace(str(job_id), str(other_job))),
                     variant(path=parts.path.replace("usage_daily.csv", "usage_daily.manifest.json"))):
        assert error_of(httpx.get(tampered)) == (403, "invalid_signature"), tampered
    assert error_of(httpx.get(variant(signature="x" * 64))) == (422, "invalid_signature")
    # 24 h after the export completed: the link and the download both expired.
    api.clock.advance(timedelta(hours=24))
    assert error_of(httpx.get(location)) == (410, "download_expired")
    late = api.client.get(f"{JOBS.format(org=ORG)}/{job_id}/download", headers=api.auth(token))
    assert error_of(late) == (410, "download_expired") and "request a new export" in late.json()["error"]["message"]


def test_expired_and_unfinished_exports_are_not_downloaded(api):
    token, _ = api.key(ORG)
    for status, expected in (("expired", (410, "export_expired")), ("pending", (409, "export_not_ready")),
                             ("running", (409, "export_not_ready")), ("failed", (409, "export_not_ready"))):
        job_id = add_job(api, ORG, status=status)
        response = api.client.get(f"{JOBS.format(org=ORG)}/{job_id}/download", headers=api.auth(token))
        assert error_of(response) == expected, status
    # Retention deleted the file of a job still marked succeeded: gone, not an error.
    job_id = add_job(api, ORG, status="succeeded")
    for file in Path(api.settings.exports_url).rglob(f"{job_id}/*.csv"):
        file.unlink()
    response = api.client.get(f"{JOBS.format(org=ORG)}/{job_id}/download", headers=api.auth(token))
    assert error_of(response) == (410, "export_expired")


def test_s3_downloads_redirect_to_a_presigned_url_valid_until_a_day_after_completion(
        start_api, warehouse_url, dagster_instance, s3_endpoint, s3_bucket):
    load_january(warehouse_url)
    exports_url = f"s3://{s3_bucket}/exports"
    api = start_api(warehouse_url, exports_url=exports_url, s3_endpoint=s3_endpoint)
    token, _ = api.key(ORG)
    job_id = post(api, token).json()["jobId"]
    [outcome] = run_pending_exports(dagster_instance, export_resources(
        warehouse_url, exports_url=exports_url, s3_endpoint=s3_endpoint, store_root=f"s3://{s3_bucket}"))
    assert outcome.success
    api.clock.advance(timedelta(hours=20))
    location = api.client.get(f"{JOBS.format(org=ORG)}/{job_id}/download", headers=api.auth(token)).headers["Location"]
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    assert location.startswith(f"{s3_endpoint}/{s3_bucket}/exports/adhoc/{ORG}/{job_id}/usage_daily.csv?")
    assert query["X-Amz-Expires"] == str(4 * 3600)  # the 4 h left of the day after completion
    job = api.client.get(f"{JOBS.format(org=ORG)}/{job_id}", headers=api.auth(token)).json()
    assert job["outputUri"] == f"{s3_endpoint}/{s3_bucket}/exports/adhoc/{ORG}/{job_id}/usage_daily.csv"
    fetched = httpx.get(location)
    assert fetched.content.startswith(b"bucket_start,")  # the URL works
    # ... and names the file by what it holds (both days of the range included).
    assert fetched.headers["content-disposition"] == \
        f'attachment; filename="usage_daily_{ORG}_2024-01-01_2024-01-31.csv"'

    # Where the API reaches S3 by another name than finance's browsers do (compose: minio:9000
    # inside, localhost:9000 outside), the URL is signed for the outside endpoint.
    outside = start_api(warehouse_url, exports_url=exports_url, s3_endpoint=s3_endpoint,
                        api_download_s3_endpoint_url="http://downloads.example:9000", clock=api.clock)
    token, _ = outside.key(ORG)
    signed = outside.client.get(f"{JOBS.format(org=ORG)}/{job_id}/download",
                                headers=outside.auth(token)).headers["Location"]
    assert signed.startswith(f"http://downloads.example:9000/{s3_bucket}/exports/adhoc/{ORG}/{job_id}/usage_daily.csv?")
    assert "X-Amz-Signature=" in signed


def test_a_failed_export_says_why_in_one_sentence(start_api, warehouse_url, dagster_instance, s3_endpoint,
                                                 s3_bucket, monkeypatch):
    import dagster._core.definitions.policy as policy

    monkeypatch.setattr(policy, "random", lambda: 0.0)  # the retries without their jittered sleeps
    load_january(warehouse_url)
    missing = f"s3://missing-{uuid.uuid4().hex[:8]}/exports"
    api = start_api(warehouse_url, exports_url=f"s3://{s3_bucket}/exports", s3_endpoint=s3_endpoint)
    token, _ = api.key(ORG)
    job_id = post(api, token).json()["jobId"]
    [outcome] = run_pending_exports(dagster_instance, export_resources(
        warehouse_url, exports_url=missing, s3_endpoint=s3_endpoint, store_root=f"s3://{s3_bucket}"))
    assert not outcome.success
    job = api.client.get(f"{JOBS.format(org=ORG)}/{job_id}", headers=api.auth(token)).json()
    assert job["status"] == "failed"
    assert job["error"] == ("the export could not be written to object storage (NoSuchBucket); details are in the "
                            f"logs of run {outcome.run_id}")
    assert "Traceback" not in job["error"] and "\n" not in job["error"]
    with connect(warehouse_url) as conn:
        assert conn.execute("SELECT run_id FROM analytics_export_jobs").fetchone()[0] == outcome.run_id
    failure = api.client.get(f"{JOBS.format(org=ORG)}/{job_id}/download", headers=api.auth(token))
    assert error_of(failure) == (409, "export_not_ready") and "NoSuchBucket" in failure.json()["error"]["message"]


def test_the_sensor_fails_a_job_whose_run_died_before_it_started(api, dagster_instance):
    job_id = add_job(api, ORG)
    resources = export_resources(api.database_url, exports_url=api.settings.exports_url)
    # The run the sensor launched fails in its resources (an unreachable warehouse), before the op runs.
    broken = {**resources, "warehouse": WarehouseResource(database_url="postgresql://nobody@127.0.0.1:9/none")}
    died = export_job.execute_in_process(run_config={"ops": {"run_usage_export": {"config": {"job_id": str(job_id)}}}},
                                         tags={EXPORT_JOB_ID_TAG: str(job_id), EXPORT_TAG: "adhoc"},
                                         instance=dagster_instance, resources=broken, raise_on_error=False)
    assert not died.success
    run_pending_exports(dagster_instance, resources)  # 5 minutes have not passed: it stays pending
    with connect(api.database_url) as conn:
        assert conn.execute("SELECT status FROM analytics_export_jobs").fetchone()[0] == "pending"
    later = export_resources(api.database_url, exports_url=api.settings.exports_url, now=NOW + timedelta(minutes=6))
    run_pending_exports(dagster_instance, later)
    with connect(api.database_url) as conn:
        status, error = conn.execute("SELECT status, error FROM analytics_export_jobs").fetchone()
    assert status == "failed"
    assert error == f"its run {died.run_id} failure before the export started; request a new export"


def test_a_job_stuck_in_pending_shows_in_readyz_with_the_reason(api):
    assert api.client.get("/readyz").json() == {"status": "ready", "warehouse": "ok", "migrations": "current",
                                                "exportQueue": "ok"}
    job_id = add_job(api, ORG)
    api.clock.advance(timedelta(minutes=14))
    assert api.client.get("/readyz").json()["exportQueue"] == "ok"
    api.clock.advance(timedelta(minutes=2))
    ready = api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["exportQueue"] == "stuck"
    reason = ready.json()["reason"]
    assert f"the oldest, {job_id}, for 16 minutes" in reason
    assert "`analytics-pipeline ui`" in reason and "`dagster-daemon run`" in reason


def test_pages_never_repeat_or_skip_a_job_while_new_jobs_arrive(start_api, warehouse_url):
    clock = FrozenClock(tick=timedelta(milliseconds=1))
    api = start_api(warehouse_url, clock=clock, api_max_active_jobs=10_000)
    token, _ = api.key(ORG)
    with connect(warehouse_url, autocommit=True) as conn:
        existing = set()
        for day in range(130):
            request = ExportRequest.parse(organization_id=ORG, start="2024-01-01", end="2024-01-02")
            # Some share a creation time: the job id breaks the tie.
            record_request(conn, request, created_at=NOW - timedelta(seconds=day // 3))
            existing.add(request.job_id)
        conn.execute("UPDATE analytics_export_jobs SET status = 'succeeded'")
    stop = threading.Event()
    arrived = []

    def keep_creating():
        with httpx.Client(base_url=api.url, timeout=30) as client:
            while not stop.is_set() and len(arrived) < 200:
                arrived.append(client.post(JOBS.format(org=ORG), json=create_body(),
                                           headers=api.auth(token)).json()["jobId"])

    writer = threading.Thread(target=keep_creating)
    writer.start()
    seen, positions, cursor = [], [], None
    try:
        while True:
            params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
            page = api.client.get(JOBS.format(org=ORG), params=params, headers=api.auth(token)).json()
            seen += [uuid.UUID(j["jobId"]) for j in page["jobs"]]
            positions += [(j["createdAt"], j["jobId"]) for j in page["jobs"]]
            cursor = page["nextCursor"]
            if cursor is None:
                break
    finally:
        stop.set()
        writer.join()
    assert arrived, "no job arrived while paging"
    assert len(seen) == len(set(seen))  # never repeated
    assert existing <= set(seen)  # never skipped
    assert positions == sorted(positions, reverse=True)  # newest first
    filtered = api.client.get(JOBS.format(org=ORG), params={"status": "pending", "limit": 200},
                              headers=api.auth(token)).json()
    assert {j["jobId"] for j in filtered["jobs"]} == set(arrived) and filtered["nextCursor"] is None


def test_the_warehouse_down_is_503_not_a_traceback(start_api, pg_server_url, empty_database_url):
    api = start_api(empty_database_url)  # migrated at startup
    token, _ = api.key(ORG)
    assert api.client.get(JOBS.format(org=ORG), headers=api.auth(token)).status_code == 200
    drop_database(pg_server_url, urllib.parse.urlsplit(empty_database_url).path.lstrip("/"))
    down = api.client.get(JOBS.format(org=ORG), headers=api.auth(token))
    assert error_of(down) == (503, "warehouse_unavailable") and down.headers["Retry-After"] == "30"
    ready = api.client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["status"] == "unready"
    assert api.client.get("/healthz").json() == {"status": "ok"}


def test_access_log_lines_carry_no_signature():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", "/analytics/v1/files/j/usage.csv?expires=1&signature=abc123",
                                "1.1", 200), None)
    RedactSignatures().filter(record)
    assert "abc123" not in record.getMessage() and "signature=[redacted]" in record.getMessage()
    assert "expires=1" in record.getMessage()


@pytest.mark.parametrize("form", ["2024-01-31T23:59:59Z", "2024-02-01T00:00:00Z"])
def test_usage_series_are_the_organizations_rollups(api, form):
    load_january(api.database_url)
    token, _ = api.key(ORG)
    response = api.client.get(f"/analytics/v1/orgs/{ORG}/usage", headers=api.auth(token),
                              params={"start": "2024-01-01T00:00:00Z", "end": form, "granularity": "daily"})
    assert response.status_code == 200
    body = response.json()
    assert body["timeRange"] == {"start": "2024-01-01T00:00:00Z", "end": form}
    with connect(api.database_url) as conn:
        rows = conn.execute("SELECT count(*), sum(request_count), sum(cost_total) FROM analytics_daily_rollups "
                            "WHERE organization_id = %s AND bucket_start < '2024-02-01'", (ORG,)).fetchone()
    assert len(body["series"]) == rows[0] and body["totals"]["requestCount"] == rows[1]
    assert body["totals"]["costTotal"] == str(rows[2].quantize(Decimal("0.0001")))
    assert {p["modelId"] for p in body["series"]} >= {"(none)"}
    assert all(p["bucketStart"].endswith("T00:00:00Z") and isinstance(p["costTotal"], str) for p in body["series"])
    assert all(p["latencyP50Ms"] <= p["latencyP95Ms"] <= p["latencyP99Ms"] for p in body["series"])
    # The month's own percentiles, merged from the rollups, against the exact ones over its raw events.
    with connect(api.database_url) as conn:
        exact = conn.execute(
            "SELECT count(*), percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY duration_ms) "
            "FROM analytics_events WHERE organization_id = %s AND event_time < '2024-02-01'", (ORG,)).fetchone()
    totals = body["totals"]
    assert totals["latencyRequestCount"] == exact[0] == rows[1]
    assert [totals["latencyP50Ms"], totals["latencyP95Ms"], totals["latencyP99Ms"]] == pytest.approx(
        exact[1], rel=RELATIVE_ERROR)
    hourly = api.client.get(f"/analytics/v1/orgs/{ORG}/usage", headers=api.auth(token),
                            params={"start": "2024-01-01T00:00:00Z", "end": "2024-01-01T23:59:59Z",
                                    "granularity": "hourly"}).json()
    assert sum(p["requestCount"] for p in hourly["series"]) == 12
    assert hourly["totals"]["latencyRequestCount"] == 12



def test_usage_latency_rests_on_every_request_when_the_last_days_daily_rollup_has_not_run(api):
    # The last day of the range has its hourly rows but no daily rows yet (its daily rollup has not run):
    # the range's percentiles merge that day's hours, so they rest on every request the series counts.
    load_january(api.database_url)
    token, _ = api.key(ORG)
    with connect(api.database_url) as conn:
        last_day = conn.execute("SELECT max(bucket_start) FROM analytics_daily_rollups WHERE organization_id = %s "
                                "AND bucket_start < '2024-02-01'", (ORG,)).fetchone()[0]
        conn.execute("DELETE FROM analytics_daily_rollups WHERE bucket_start = %s", (last_day,))
        conn.commit()
    start, end = last_day - timedelta(days=1), last_day + timedelta(days=1)
    body = api.client.get(f"/analytics/v1/orgs/{ORG}/usage", headers=api.auth(token),
                          params={"start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                  "end": end.strftime("%Y-%m-%dT%H:%M:%SZ"), "granularity": "hourly"}).json()
    assert any(p["bucketStart"].startswith(last_day.strftime("%Y-%m-%d")) for p in body["series"])
    assert body["totals"]["latencyRequestCount"] == body["totals"]["requestCount"] > 0

def test_monthly_exports_are_listed_and_downloaded_like_any_job(start_api, warehouse_url, tmp_path):
    import dagster as dg

    from analytics_pipeline.defs.exports.assets import monthly_usage_exports
    from analytics_pipeline.rollups.pricing import parse_catalog, read_catalog_text, replace_model_prices
    from analytics_pipeline.rollups.usage import Granularity, replace_usage_rollups
    from analytics_pipeline_tests.event_rows import insert_events

    march, april = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC)
    scheduled_at = april + timedelta(hours=2)
    with connect(warehouse_url) as conn:
        with conn.transaction():
            replace_model_prices(conn, parse_catalog(read_catalog_text(None)))
        insert_events(conn, [(march + timedelta(days=d, hours=5), org, f"{org}-{d}", None, 200, 3.0, None, 10, 5)
                             for d in range(31) for org in (ORG, "org-b")])
        for granularity in (Granularity.HOURLY, Granularity.DAILY):
            replace_usage_rollups(conn, granularity, march, april)
    exports_url = str(tmp_path / "exports")
    api = start_api(warehouse_url, exports_url=exports_url, clock=FrozenClock(scheduled_at + timedelta(hours=3)))
    result = dg.materialize([monthly_usage_exports], partition_key="2025-03-01",
                            resources=export_resources(warehouse_url, exports_url=exports_url, now=scheduled_at),
                            instance=dg.DagsterInstance.ephemeral(),
                            tags={"dagster/schedule_name": "monthly_exports_job_schedule"})
    assert result.success
    token, _ = api.key(ORG)
    [job] = api.client.get(JOBS.format(org=ORG), headers=api.auth(token)).json()["jobs"]
    assert job["initiatedBy"] == "schedule" and job["status"] == "succeeded"
    assert job["timeRange"] == {"start": "2025-03-01T00:00:00Z", "end": "2025-04-01T00:00:00Z"}
    location = api.client.get(f"{JOBS.format(org=ORG)}/{job['jobId']}/download",
                              headers=api.auth(token)).headers["Location"]
    data = httpx.get(location).content
    assert "sha256:" + hashlib.sha256(data).hexdigest() == job["checksum"]
    assert data.decode().count(f",{ORG},(none),1,15,0,") == 31  # one model-less request a day


def test_a_cached_key_is_still_checked_and_a_revocation_reaches_it_within_the_cache_time(start_api, warehouse_url):
    import time

    api = start_api(warehouse_url, api_key_cache_seconds=0.5)
    token, key_id = api.key(ORG)
    assert api.client.get(JOBS.format(org=ORG), headers=api.auth(token)).status_code == 200  # now cached
    prefix, key, secret = token.split("_", 2)
    wrong = f"{prefix}_{key}_{'A' * len(secret)}"
    assert error_of(api.client.get(JOBS.format(org=ORG), headers=api.auth(wrong))) == (401, "invalid_api_key")
    with connect(warehouse_url, autocommit=True) as conn:
        revoke_key(conn, key_id, api.clock.now)
    time.sleep(0.6)
    assert error_of(api.client.get(JOBS.format(org=ORG), headers=api.auth(token))) == (401, "revoked_api_key")


def test_a_range_without_usage_succeeds_with_a_warning_not_silently(api, dagster_instance):
    """The README's own 2024-01 example against a warehouse with no usage then: a header-only CSV, and
    the job says so (an additive ``warning``); a range with usage carries none."""
    load_january(api.database_url)
    token, _ = api.key(ORG)
    empty = post(api, token, body={"timeRange": {"start": "2023-06-01T00:00:00Z", "end": "2023-07-01T00:00:00Z"},
                                   "granularity": "daily"}).json()["jobId"]
    full = post(api, token).json()["jobId"]
    outcomes = run_pending_exports(dagster_instance, export_resources(api.database_url,
                                                                      exports_url=api.settings.exports_url))
    assert [o.success for o in outcomes] == [True, True]
    job = api.client.get(f"{JOBS.format(org=ORG)}/{empty}", headers=api.auth(token)).json()
    assert job["status"] == "succeeded" and job["rowCount"] == 0
    assert job["warning"].startswith("no usage in this range")
    job = api.client.get(f"{JOBS.format(org=ORG)}/{full}", headers=api.auth(token)).json()
    assert job["status"] == "succeeded" and job["rowCount"] > 0 and "warning" not in job
