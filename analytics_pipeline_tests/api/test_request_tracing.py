"""The trace routes over real HTTP: finance traces every organization; an organization key traces its
own requests only, proven over every key, path organization and request id of the data."""

import itertools

import pytest

from analytics_pipeline_tests.tracing.conftest import FIRST_KEY, SECOND_KEY, traced_warehouse  # noqa: F401

ORGS = ("org-a", "org-b", "org-c")
REQUESTS = ("req-ok", "req-other", "req-bad", "req-none")
OWN_OBJECTS = {"org-a": {FIRST_KEY}, "org-b": {SECOND_KEY}, "org-c": set()}


@pytest.fixture
def tracing_api(start_api, traced_warehouse):  # noqa: F811
    api = start_api(traced_warehouse)
    keys = {org: api.key(org, name=f"{org} support")[0] for org in ORGS}
    keys["*"] = api.key(None, name="sre", finance=True)[0]
    return api, keys


def test_finance_traces_a_request_in_every_organization(tracing_api):
    api, keys = tracing_api
    answer = api.client.get("/analytics/v1/requests/req-ok/trace", headers=api.auth(keys["*"]))
    assert answer.status_code == 200
    body = answer.json()
    assert body["found"] and [o["organization_id"] for o in body["organizations"]] == ["org-a", "org-b"]
    org_a = body["organizations"][0]
    assert [(line["outcome"], line["source"]["fields"]["line"]) for line in org_a["lines"]] == [
        ("accepted", 1), ("duplicate", 3)]
    assert org_a["price"] == "0.0039" and org_a["rollup"]["request_count"] == 2
    assert api.client.get("/analytics/v1/requests/req-ok/trace",
                          headers=api.auth(keys["org-a"])).json()["error"]["code"] == "finance_key_required"
    assert api.client.get("/analytics/v1/requests/req-ok/trace").status_code == 401


def test_an_organization_key_traces_only_its_own_organization(tracing_api):
    api, keys = tracing_api
    for key_org, path_org, request_id in itertools.product(ORGS, ORGS, REQUESTS):
        answer = api.client.get(f"/analytics/v1/orgs/{path_org}/requests/{request_id}/trace",
                                headers=api.auth(keys[key_org]))
        if key_org != path_org:
            assert answer.status_code == 403, (key_org, path_org, request_id)
            assert answer.json()["error"]["code"] == "organization_out_of_scope"
            continue
        if answer.status_code == 404:
            assert answer.json()["error"]["code"] == "request_not_found"
            continue
        assert answer.status_code == 200
        organizations = answer.json()["organizations"]
        assert [o["organization_id"] for o in organizations] == [key_org]
        keys_seen = {line["source"]["fields"]["object_key"] for o in organizations for line in o["lines"]}
        assert keys_seen <= OWN_OBJECTS[key_org], (key_org, request_id, keys_seen)
    # What each organization finds: org-a its three requests (req-bad quarantined), org-b its req-ok.
    found = {(org, rid) for org, rid in itertools.product(ORGS, REQUESTS)
             if api.client.get(f"/analytics/v1/orgs/{org}/requests/{rid}/trace",
                               headers=api.auth(keys[org])).status_code == 200}
    assert found == {("org-a", "req-ok"), ("org-a", "req-other"), ("org-a", "req-bad"), ("org-b", "req-ok")}
