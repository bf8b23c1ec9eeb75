"""The export form creates jobs as the API's POST does (same rules, cap, audit, idempotency), only
with the session's CSRF token; downloads go through the API's signed link."""

from __future__ import annotations

import hashlib

import httpx

from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.api.data import ORG, OTHER_ORG
from analytics_pipeline_tests.api.helpers import add_job
from analytics_pipeline_tests.api.portal.helpers import hidden, sign_in, table_rows


def _form(client, org: str = ORG) -> dict[str, str]:
    page = client.get(f"/portal/orgs/{org}/exports")
    assert page.status_code == 200
    return {"csrf_token": hidden(page.text, "csrf_token"), "request_token": hidden(page.text, "request_token"),
            "start": "2024-01-01", "end": "2024-01-31", "granularity": "daily", "by_model": "on"}


def _jobs(api, org: str = ORG) -> list[tuple]:
    with connect(api.database_url, autocommit=True) as conn:
        return conn.execute("SELECT job_id, range_start, range_end, granularity, by_model, initiated_by, api_key_id, "
                            "idempotency_key FROM analytics_export_jobs WHERE organization_id = %s", (org,)).fetchall()


def test_the_form_creates_the_job_the_api_would(api):
    token, key_id = api.key(ORG, name="portal user")
    client = sign_in(api, token)
    form = _form(client)
    response = client.post(f"/portal/orgs/{ORG}/exports", data=form)
    assert response.status_code == 303
    [job] = _jobs(api)
    assert response.headers["location"] == f"/portal/orgs/{ORG}/exports?created={job[0]}"
    assert (job[1].isoformat(), job[2].isoformat(), job[3], job[4], job[5], job[6]) == (
        "2024-01-01T00:00:00+00:00", "2024-02-01T00:00:00+00:00", "daily", True, "portal user", key_id)
    # Sent twice (a double click, a reload of the POST): still one job.
    assert client.post(f"/portal/orgs/{ORG}/exports", data=form).status_code == 303 and len(_jobs(api)) == 1
    listed = client.get(response.headers["location"])
    [row] = table_rows(listed.text, "exports-table")
    assert row[1] == "portal user" and row[2] == "2024-01-01 to 2024-01-31"  # requested by; both days included
    assert row[4] == "pending" and f'data-job-id="{job[0]}" data-status="pending" class="created"' in listed.text
    with connect(api.database_url, autocommit=True) as conn:
        audited = conn.execute("SELECT outcome FROM analytics_api_audit WHERE action = 'create_export' "
                               "ORDER BY audit_id").fetchall()
    assert audited == [("ok",), ("replayed",)]


def test_the_form_needs_the_sessions_csrf_token(api):
    token, _ = api.key(ORG)
    client = sign_in(api, token)
    form = _form(client)
    other, _ = api.key(ORG, name="another person")
    foreign = _form(sign_in(api, other))["csrf_token"]  # a token of another session of the same organization
    for bad in ({**form, "csrf_token": ""}, {**form, "csrf_token": foreign}, {k: v for k, v in form.items()
                                                                              if k != "csrf_token"}):
        response = client.post(f"/portal/orgs/{ORG}/exports", data=bad)
        assert response.status_code == 403 and "invalid_csrf_token" in response.text
    assert _jobs(api) == []


def test_the_form_says_why_a_request_is_refused(api):
    token, _ = api.key(ORG)
    client = sign_in(api, token)
    long = client.post(f"/portal/orgs/{ORG}/exports", data={**_form(client), "end": "2024-03-31"})
    assert long.status_code == 422 and "at most 31 days" in long.text
    assert 'value="2024-03-31"' in long.text  # the form keeps what was typed
    for _ in range(api.settings.api_max_active_jobs):
        assert client.post(f"/portal/orgs/{ORG}/exports", data=_form(client)).status_code == 303
    capped = client.post(f"/portal/orgs/{ORG}/exports", data=_form(client))
    assert capped.status_code == 429 and "10 export jobs pending or running" in capped.text
    assert len(_jobs(api)) == api.settings.api_max_active_jobs


def test_a_succeeded_export_downloads_through_the_signed_link(api):
    token, _ = api.key(ORG)
    client = sign_in(api, token)
    content = b"bucket_start,model_id\n2024-01-01T00:00:00Z,m\n"
    job = add_job(api, ORG, status="succeeded", content=content)
    page = client.get(f"/portal/orgs/{ORG}/exports")
    assert f'href="/portal/orgs/{ORG}/exports/{job}/download"' in page.text
    response = client.get(f"/portal/orgs/{ORG}/exports/{job}/download")
    assert response.status_code == 302 and "/analytics/v1/files/" in response.headers["location"]
    fetched = httpx.get(response.headers["location"])
    assert fetched.status_code == 200 and fetched.content == content
    assert hashlib.sha256(fetched.content).hexdigest() in page.text
    pending = add_job(api, ORG, status="pending")
    refused = client.get(f"/portal/orgs/{ORG}/exports/{pending}/download")
    assert refused.status_code == 409 and "export_not_ready" in refused.text


def test_another_organizations_job_is_not_found_even_by_its_id(api):
    token, _ = api.key(ORG)
    client = sign_in(api, token)
    theirs = add_job(api, OTHER_ORG, status="succeeded", content=b"csv of the neighbour\n")
    response = client.get(f"/portal/orgs/{ORG}/exports/{theirs}/download")
    assert response.status_code == 404 and "Location" not in response.headers
    assert str(theirs) not in client.get(f"/portal/orgs/{ORG}/exports").text
