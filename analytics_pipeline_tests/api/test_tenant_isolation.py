"""Property: no key ever reads another organization's job, list entry, usage or file.

Three organizations, a key of each and a finance-wide key, jobs of every status in each, usage
of two of them; hypothesis picks a key, the organization in the path, a job (of any
organization) and an operation, and the answer must never show what the key may not read."""

from __future__ import annotations

import urllib.parse

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics_pipeline_tests.api.data import ORG, OTHER_ORG, load_january
from analytics_pipeline_tests.api.helpers import JOBS, add_job

ORGS = (ORG, OTHER_ORG, "org-c")
OPERATIONS = ("get", "download", "list", "list_succeeded", "usage", "file")


@pytest.fixture(scope="module")
def tenants(module_api):
    api = module_api
    load_january(api.database_url)
    keys = {org: api.key(org, name=f"{org} finance")[0] for org in ORGS}
    keys["*"] = api.key(None, name="all of finance", finance=True)[0]
    jobs = {org: [add_job(api, org, status=status, content=f"csv of {org}\n".encode())
                  for status in ("pending", "succeeded", "failed", "succeeded")] for org in ORGS}
    owner = {str(job): org for org, ids in jobs.items() for job in ids}
    # A genuine signed link per succeeded job, made with the owner's key.
    links = {}
    for org, ids in jobs.items():
        for job in ids:
            response = api.client.get(f"{JOBS.format(org=org)}/{job}/download", headers=api.auth(keys[org]))
            if response.status_code == 302:
                links[str(job)] = response.headers["Location"]
    return api, keys, owner, links


def may_read(key_org: str, org: str) -> bool:
    return key_org == "*" or key_org == org


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key_org=st.sampled_from((*ORGS, "*")), path_org=st.sampled_from(ORGS), job_index=st.integers(0, 11),
       operation=st.sampled_from(OPERATIONS), link_index=st.integers(0, 5))
def test_no_key_reads_another_organizations_data(tenants, key_org, path_org, job_index, operation, link_index):
    api, keys, owner, links = tenants
    job = sorted(owner)[job_index]
    headers = api.auth(keys[key_org])
    foreign = {j for j, org in owner.items() if org != path_org}
    if operation == "file":
        # Someone holding another job's genuine link swaps in this job's id: the signature no longer fits.
        link_job = sorted(links)[link_index]
        if link_job == job:
            return
        parts = urllib.parse.urlsplit(links[link_job])
        forged = urllib.parse.urlunsplit(parts._replace(path=parts.path.replace(link_job, job)))
        response = httpx.get(forged, headers=headers)
        assert response.status_code == 403 and response.json()["error"]["code"] == "invalid_signature"
        assert f"csv of {owner[job]}" not in response.text
        return
    path = {
        "get": f"{JOBS.format(org=path_org)}/{job}",
        "download": f"{JOBS.format(org=path_org)}/{job}/download",
        "list": JOBS.format(org=path_org),
        "list_succeeded": f"{JOBS.format(org=path_org)}?status=succeeded",
        "usage": f"/analytics/v1/orgs/{path_org}/usage?start=2024-01-01T00:00:00Z&end=2024-01-08T00:00:00Z",
    }[operation]
    response = api.client.get(path, headers=headers)
    if not may_read(key_org, path_org):
        assert response.status_code == 403 and response.json()["error"]["code"] == "organization_out_of_scope"
        assert not any(j in response.text for j in owner)
        return
    if operation in ("get", "download") and owner[job] != path_org:
        assert response.status_code == 404 and response.json()["error"]["code"] == "export_not_found"
        assert "Location" not in response.headers
        return
    assert response.status_code in (200, 302, 409), response.text
    assert not any(j in response.text for j in foreign)
    if operation.startswith("list"):
        listed = response.json()["jobs"]
        assert listed and {entry["orgId"] for entry in listed} == {path_org}
    elif operation == "usage":
        body = response.json()
        assert body["orgId"] == path_org
        assert (body["totals"]["requestCount"] > 0) == (path_org in (ORG, OTHER_ORG))
    elif response.status_code == 302:
        fetched = httpx.get(response.headers["Location"])
        assert fetched.status_code == 200 and fetched.content == f"csv of {path_org}\n".encode()
