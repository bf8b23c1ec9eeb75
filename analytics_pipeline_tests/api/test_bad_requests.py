"""A zoo of bad requests: each is refused with its status and error code, in the one error
shape, audited, and never answered with a 500 or a traceback."""

from __future__ import annotations

import json

import pytest

from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.api.data import ORG
from analytics_pipeline_tests.api.helpers import JOBS, add_job, create_body

EXPORTS = JOBS.format(org=ORG)
VALID = json.dumps(create_body())
JSON = {"Content-Type": "application/json"}


def body(**changes) -> str:
    data = create_body()
    for key, value in changes.items():
        if key in ("start", "end"):
            data["timeRange"][key] = value
        elif value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return json.dumps(data)


# id, method, path, headers, body, status, code. Headers: "KEY" or "FINANCE" (that key alone); a dict
# without Authorization (those headers on a request with KEY); {} (no key at all; links need none).
ZOO = [
    ("no key", "GET", EXPORTS, {}, None, 401, "missing_api_key"),
    ("basic auth", "GET", EXPORTS, {"Authorization": "Basic dXNlcjpwYXNz"}, None, 401, "missing_api_key"),
    ("bearer garbage", "GET", EXPORTS, {"Authorization": "Bearer not-a-key"}, None, 401, "invalid_api_key"),
    ("bearer short key", "GET", EXPORTS, {"Authorization": "Bearer ak_0123_abc"}, None, 401, "invalid_api_key"),
    ("unknown key", "GET", EXPORTS, {"Authorization": "Bearer ak_000000000000_" + "A" * 43}, None, 401,
     "invalid_api_key"),
    ("other organization", "GET", JOBS.format(org="org-b"), "KEY", None, 403, "organization_out_of_scope"),
    ("other organization's create", "POST", JOBS.format(org="org-b"), "KEY", VALID, 403, "organization_out_of_scope"),
    ("unsafe organization id", "GET", JOBS.format(org=".hidden"), "FINANCE", None, 422, "invalid_organization_id"),
    ("organization id with a slash", "GET", JOBS.format(org="..%2Fetc"), "FINANCE", None, 404, "not_found"),
    ("NUL in organization id", "GET", JOBS.format(org="org%00x"), "FINANCE", None, 422, "invalid_organization_id"),
    ("organization id too long", "GET", JOBS.format(org="o" * 200), "FINANCE", None, 422, "invalid_organization_id"),
    ("job id not a UUID", "GET", f"{EXPORTS}/12345", "KEY", None, 422, "invalid_job_id"),
    ("unknown job", "GET", f"{EXPORTS}/00000000-0000-4000-8000-000000000000", "KEY", None, 404, "export_not_found"),
    ("another organization's job", "GET", f"{EXPORTS}/{{other_job}}", "KEY", None, 404, "export_not_found"),
    ("download before success", "GET", f"{EXPORTS}/{{pending_job}}/download", "KEY", None, 409, "export_not_ready"),
    ("malformed JSON", "POST", EXPORTS, "KEY", '{"timeRange": {', 400, "malformed_json"),
    # The key before the body: no key, or another organization's, never learns what is wrong with the body.
    ("no key, malformed JSON", "POST", EXPORTS, {}, '{"timeRange": {', 401, "missing_api_key"),
    ("bad key, malformed JSON", "POST", EXPORTS, {"Authorization": "Bearer not-a-key"}, '{"timeRange": {', 401,
     "invalid_api_key"),
    ("other organization's malformed JSON", "POST", JOBS.format(org="org-b"), "KEY", '{"timeRange": {', 403,
     "organization_out_of_scope"),
    ("not JSON", "POST", EXPORTS, {"Content-Type": "text/plain"}, "timeRange=2024-01", 415, "unsupported_media_type"),
    ("empty body", "POST", EXPORTS, "KEY", "", 422, "missing_body"),
    ("JSON array", "POST", EXPORTS, "KEY", "[1, 2]", 422, "invalid_body"),
    ("no timeRange", "POST", EXPORTS, "KEY", json.dumps({"granularity": "daily"}), 422, "missing_field"),
    ("no end", "POST", EXPORTS, "KEY", json.dumps({"timeRange": {"start": "2024-01-01T00:00:00Z"}}), 422,
     "missing_field"),
    ("unknown field", "POST", EXPORTS, "KEY", body(initiatedBy="someone else"), 422, "unknown_field"),
    ("byModel not a boolean", "POST", EXPORTS, "KEY", body(byModel="yes"), 422, "invalid_field"),
    ("start a number", "POST", EXPORTS, "KEY", body(start=1704067200), 422, "invalid_field"),
    ("weekly granularity", "POST", EXPORTS, "KEY", body(granularity="weekly"), 422, "invalid_granularity"),
    ("start not a time", "POST", EXPORTS, "KEY", body(start="yesterday"), 422, "invalid_time"),
    ("month 13", "POST", EXPORTS, "KEY", body(end="2024-13-01T00:00:00Z"), 422, "invalid_time"),
    # The accepted times: 2000-01-01T00:00:00Z to 3000-01-01T00:00:00Z, far from the calendar's ends.
    ("inclusive end in year 9999", "POST", EXPORTS, "KEY",
     body(start="9999-12-01T00:00:00Z", end="9999-12-31T23:59:59Z"), 422, "invalid_time"),
    ("year 1 at +14:00", "POST", EXPORTS, "KEY", body(start="0001-01-01T00:00:00+14:00"), 422, "invalid_time"),
    ("a month of 1999", "POST", EXPORTS, "KEY", body(start="1999-12-01T00:00:00Z", end="1999-12-31T23:59:59Z"),
     422, "invalid_time"),
    ("a month of 3000", "POST", EXPORTS, "KEY", body(start="3000-01-01T00:00:00Z", end="3000-01-31T23:59:59Z"),
     422, "invalid_time"),
    ("usage in year 9999", "GET", f"/analytics/v1/orgs/{ORG}/usage?start=9999-12-31T00:00:00Z"
     "&end=9999-12-31T23:59:59Z", "KEY", None, 422, "invalid_time"),
    ("usage in year 1 at +14:00", "GET", f"/analytics/v1/orgs/{ORG}/usage?start=0001-01-01T00:00:00%2B14:00"
     "&end=0001-01-02T00:00:00Z", "KEY", None, 422, "invalid_time"),
    ("end before start", "POST", EXPORTS, "KEY", body(end="2023-12-01T00:00:00Z"), 422, "end_not_after_start"),
    ("end equals start", "POST", EXPORTS, "KEY", body(end="2024-01-01T00:00:00Z"), 422, "end_not_after_start"),
    ("32 days", "POST", EXPORTS, "KEY", body(end="2024-02-02T00:00:00Z"), 422, "range_too_long"),
    ("two inclusive months", "POST", EXPORTS, "KEY", body(end="2024-02-29T23:59:59Z"), 422, "range_too_long"),
    ("start off the day", "POST", EXPORTS, "KEY", body(start="2024-01-01T01:00:00Z"), 422, "unaligned_time"),
    ("end 2 s before midnight", "POST", EXPORTS, "KEY", body(end="2024-01-31T23:59:58Z"), 422, "unaligned_time"),
    ("monthly mid-month", "POST", EXPORTS, "KEY", body(granularity="monthly", end="2024-01-15T00:00:00Z"), 422,
     "unaligned_time"),
    ("body over 64 KiB", "POST", EXPORTS, "KEY", body(start="2024-01-01T00:00:00Z") + " " * 70_000, 413,
     "body_too_large"),
    ("idempotency key too long", "POST", EXPORTS, {"Idempotency-Key": "k" * 300}, VALID, 422,
     "invalid_idempotency_key"),
    ("idempotency key with spaces", "POST", EXPORTS, {"Idempotency-Key": "two words"}, VALID, 422,
     "invalid_idempotency_key"),
    ("limit 0", "GET", f"{EXPORTS}?limit=0", "KEY", None, 422, "invalid_limit"),
    ("limit 201", "GET", f"{EXPORTS}?limit=201", "KEY", None, 422, "invalid_limit"),
    ("limit not a number", "GET", f"{EXPORTS}?limit=ten", "KEY", None, 422, "invalid_limit"),
    ("unknown status", "GET", f"{EXPORTS}?status=done", "KEY", None, 422, "invalid_status"),
    ("forged cursor", "GET", f"{EXPORTS}?cursor=bm90LWEtY3Vyc29y", "KEY", None, 422, "invalid_cursor"),
    ("cursor not base64", "GET", f"{EXPORTS}?cursor=%25%25%25", "KEY", None, 422, "invalid_cursor"),
    ("cursor at year 1", "GET", f"{EXPORTS}?cursor=eyJjIjoiMDAwMS0wMS0wMVQwMDowMDowMCsxNDowMCIsImoiOiIwMDAwMDAwMC0w"
     "MDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDAifQ", "KEY", None, 422, "invalid_cursor"),
    ("trailing slash", "GET", f"{EXPORTS}/", "KEY", None, 404, "not_found"),
    ("usage monthly", "GET", f"/analytics/v1/orgs/{ORG}/usage?start=2024-01-01&end=2024-02-01&granularity=monthly",
     "KEY", None, 422, "invalid_granularity"),
    ("usage without start", "GET", f"/analytics/v1/orgs/{ORG}/usage?end=2024-02-01", "KEY", None, 422,
     "invalid_start"),
    ("usage over 31 days", "GET", f"/analytics/v1/orgs/{ORG}/usage?start=2024-01-01&end=2024-03-01", "KEY", None,
     422, "range_too_long"),
    ("unknown route", "GET", "/analytics/v1/orgs", "KEY", None, 404, "not_found"),
    ("DELETE a job", "DELETE", f"{EXPORTS}/{{pending_job}}", "KEY", None, 405, "method_not_allowed"),
    ("signature wrong", "GET", "/analytics/v1/files/{pending_job}/usage_daily.csv?expires=32503679999&signature="
     + "0" * 64, {}, None, 403, "invalid_signature"),
    ("signature twice", "GET", "/analytics/v1/files/{pending_job}/usage_daily.csv?expires=32503679999&signature="
     + "0" * 64 + "&signature=" + "0" * 64, {}, None, 403, "invalid_signature"),
    ("signature under an encoded name", "GET", "/analytics/v1/files/{pending_job}/usage_daily.csv?expires=1"
     "&%73ignature=" + "0" * 64, {}, None, 403, "invalid_signature"),
    ("signature not hex", "GET", "/analytics/v1/files/{pending_job}/usage_daily.csv?expires=1&signature=zz", {},
     None, 422, "invalid_signature"),
    ("link without expiry", "GET", "/analytics/v1/files/{pending_job}/usage_daily.csv?signature=" + "0" * 64, {},
     None, 422, "invalid_expires"),
]
assert len(ZOO) >= 25


@pytest.fixture(scope="module")
def zoo_api(module_api):
    api = module_api
    key, _ = api.key(ORG)
    finance, _ = api.key(None, name="finance", finance=True)
    api.tokens = {"KEY": key, "FINANCE": finance}
    api.jobs = {"pending_job": add_job(api, ORG), "other_job": add_job(api, "org-b", status="succeeded")}
    return api


@pytest.mark.parametrize("case", ZOO, ids=[case[0] for case in ZOO])
def test_a_bad_request_is_refused_with_its_status_and_code(zoo_api, case):
    _, method, path, headers, content, status, code = case
    api = zoo_api
    if isinstance(headers, str):
        headers = {"Authorization": f"Bearer {api.tokens[headers]}"}
    elif headers and "Authorization" not in headers:
        headers = {"Authorization": f"Bearer {api.tokens['KEY']}", **headers}
    if content is not None and "Content-Type" not in headers:
        headers = {**JSON, **headers}
    path = path.format(**{name: str(job) for name, job in api.jobs.items()})
    response = api.client.request(method, path, headers=headers, content=content)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()) == {"error"} and set(response.json()["error"]) == {"code", "message"}
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"] and "Traceback" not in response.text
    with connect(api.database_url) as conn:
        audited = conn.execute("SELECT status_code, outcome, client_address FROM analytics_api_audit "
                               "ORDER BY audit_id DESC LIMIT 1").fetchone()
    assert audited == (status, code, "127.0.0.1")
