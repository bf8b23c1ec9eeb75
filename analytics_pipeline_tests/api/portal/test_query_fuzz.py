"""Property: whatever a browser puts in a page's query (ranges, months, days, granularities, a job
id), the portal answers a page, its error page or the sign-in form: never a 5xx, and never a byte
of an organization the session may not read.

Days from year 1 to year 9999, months at the calendar's edges, and text that is no date at all go
into every page that takes them, for sessions of three organizations and a finance-wide one."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from analytics_pipeline_tests.api.helpers import add_job
from analytics_pipeline_tests.api.portal.data import ORGS, load_month
from analytics_pipeline_tests.api.portal.helpers import sign_in

DAY_EDGES = ("0001-01-01", "0001-01-02", "9999-12-31", "9999-12-30", "1999-12-31", "2000-01-01", "2999-12-31",
             "3000-01-01", "2024-02-30", "2024-01-31")
MONTH_EDGES = ("0001-01", "9999-12", "0000-12", "1999-12", "2000-01", "2999-12", "3000-01", "2024-13", "2024-01")
days = st.dates().map(str) | st.sampled_from(DAY_EDGES) | st.text(max_size=12)
months = st.dates().map(lambda d: f"{d:%Y-%m}") | st.sampled_from(MONTH_EDGES) | st.text(max_size=8)


def _query(draw_from) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({}, optional=draw_from)


PAGES = {
    "usage": _query({"start": days, "end": days, "granularity": st.sampled_from(("daily", "hourly", "weekly"))}),
    "performance": _query({"start": days, "end": days}),
    "costs": _query({"month": months}),
    "exports": _query({"created": st.text(max_size=40)}),
    "business": _query({"month": months}),
    "sre": _query({"start": days, "end": days}),
    "status": _query({"day": days}),
}
CUSTOMER_PAGES = ("usage", "performance", "costs", "exports")


@pytest.fixture(scope="module")
def portal(module_api):
    api = module_api
    load_month(api.database_url)
    sessions = {org: sign_in(api, api.key(org, name=f"{org} person")[0]) for org in ORGS}
    sessions["*"] = sign_in(api, api.key(None, name="finance", finance=True)[0])
    jobs = {org: [str(add_job(api, org, status="succeeded", content=f"csv of {org}\n".encode()))] for org in ORGS}
    return api, sessions, jobs


@settings(max_examples=250, deadline=None, derandomize=True, database=None, phases=(Phase.explicit, Phase.generate),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), session_org=st.sampled_from((*ORGS, "*")), path_org=st.sampled_from(ORGS),
       page=st.sampled_from(sorted(PAGES)))
def test_no_query_reaches_a_5xx_or_another_organizations_page(portal, data, session_org, path_org, page):
    api, sessions, jobs = portal
    query = data.draw(PAGES[page], label="query")
    if page in CUSTOMER_PAGES:
        path = f"/portal/orgs/{path_org}/{page}"
    elif page == "status":
        path = "/portal/status"
    else:
        path = f"/portal/internal/{page}"
    response = sessions[session_org].get(path, params=query)
    described = f"session of {session_org}: GET {path} {query}"
    assert response.status_code < 500, f"{described} -> {response.status_code} {response.text[:300]}"
    assert response.status_code in (200, 303, 403, 404, 422), f"{described} -> {response.status_code}"
    if response.status_code >= 400:
        assert 'class="refusal"' in response.text, described  # the portal's error page
    if page in CUSTOMER_PAGES and session_org not in ("*", path_org):
        assert response.status_code == 403, described
    # Only what the session may read: its own organization (a finance-wide session: every one).
    readable = set(ORGS) if session_org == "*" else {session_org}
    shown = response.text + response.headers.get("location", "")
    for org in set(ORGS) - readable:
        if org in path or org in str(query):
            continue  # the page names what it was asked for (the path), nothing more
        assert org not in shown and f"csv of {org}" not in shown and jobs[org][0] not in shown, \
            f"{described} -> {response.status_code} shows {org}"
