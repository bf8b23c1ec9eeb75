"""Property: a portal session renders the organization of its key only.

Three organizations with a month of usage and export jobs each, a session of each and a finance-wide
one; hypothesis picks a session, the organization in the path, a page (or a job's download, or the
export form) and the answer must show nothing of an organization the session's key may not read."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.api.helpers import add_job
from analytics_pipeline_tests.api.portal.data import ORGS, load_month
from analytics_pipeline_tests.api.portal.helpers import hidden, sign_in

PAGES = ("usage", "performance", "costs", "exports", "download", "request_export", "business", "sre")


@pytest.fixture(scope="module")
def tenants(module_api):
    api = module_api
    load_month(api.database_url)
    sessions = {org: sign_in(api, api.key(org, name=f"{org} person")[0]) for org in ORGS}
    sessions["*"] = sign_in(api, api.key(None, name="finance", finance=True)[0])
    jobs = {org: [add_job(api, org, status="succeeded", content=f"csv of {org}\n".encode()),
                  add_job(api, org, status="failed")] for org in ORGS}
    with connect(api.database_url, autocommit=True) as conn:
        totals = dict(conn.execute("SELECT organization_id, sum(request_count) FROM analytics_daily_rollups "
                                   "WHERE bucket_start >= '2024-01-01' AND bucket_start < '2024-02-01' "
                                   "GROUP BY 1").fetchall())
    return api, sessions, jobs, totals


def _job_count(api, org: str) -> int:
    with connect(api.database_url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM analytics_export_jobs WHERE organization_id = %s",
                            (org,)).fetchone()[0]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(session_org=st.sampled_from((*ORGS, "*")), path_org=st.sampled_from(ORGS), page=st.sampled_from(PAGES),
       job_org=st.sampled_from(ORGS))
def test_no_session_renders_another_organizations_page(tenants, session_org, path_org, page, job_org):
    api, sessions, jobs, totals = tenants
    client = sessions[session_org]
    if page in ("business", "sre"):  # the internal pages: a finance-wide session's only, every tenant on them
        response = client.get(f"/portal/internal/{page}")
        if session_org != "*":
            assert response.status_code == 403 and "internal_pages_refused" in response.text
            assert not any(org in response.text for org in ORGS if org != session_org)
        else:
            assert response.status_code == 200
            assert page == "sre" or all(org in response.text for org in ORGS)  # business lists every customer
        return
    allowed = session_org in ("*", path_org)
    foreign_jobs = [str(job) for org, ids in jobs.items() if org != path_org for job in ids]
    before = _job_count(api, path_org)
    if page == "download":
        response = client.get(f"/portal/orgs/{path_org}/exports/{jobs[job_org][0]}/download")
    elif page == "request_export":
        own = session_org if session_org != "*" else path_org
        form = client.get(f"/portal/orgs/{own}/exports").text  # a genuine form of the session
        response = client.post(f"/portal/orgs/{path_org}/exports", data={
            "csrf_token": hidden(form, "csrf_token"), "request_token": hidden(form, "request_token"),
            "start": "2024-01-01", "end": "2024-01-07", "granularity": "daily", "by_model": "on"})
    else:
        query = "?month=2024-01" if page == "costs" else "?start=2024-01-01&end=2024-01-31"
        response = client.get(f"/portal/orgs/{path_org}/{page}{query}")
    if not allowed:
        assert response.status_code == 403 and "organization_out_of_scope" in response.text
        assert path_org not in response.text and "Location" not in response.headers
        assert not any(job in response.text for job in foreign_jobs + [str(j) for j in jobs[path_org]])
        assert _job_count(api, path_org) == before
        return
    # (A refused download names the job id it was asked for, and only that: the same words whether it exists or not.)
    asked = str(jobs[job_org][0]) if page == "download" else None
    assert not any(job in response.text for job in foreign_jobs if job != asked)
    if page == "download":
        assert response.status_code == (302 if job_org == path_org else 404)
    elif page == "request_export":
        assert response.status_code in (303, 429)  # 429: the organization's cap of active jobs, reached by examples
        if response.status_code == 303:
            assert response.headers["location"].startswith(f"/portal/orgs/{path_org}/exports?created=")
    else:
        assert response.status_code == 200
        assert f'<span class="sub"><code class="id">{path_org}</code></span>' in response.text
        if page == "usage":
            assert f'<dd data-value="{totals[path_org]}">' in response.text
        if page == "exports":
            assert all(str(job) in response.text for job in jobs[path_org])
