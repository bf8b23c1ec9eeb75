"""On call on the portal: the SRE page's request search in a real browser (finance-wide session), an
organization's own trace page and its isolation, the open alerts on the SRE page, and the status
page's incidents and silent endpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from analytics_pipeline.alerts.evaluation import evaluate_and_dispatch
from analytics_pipeline.alerts.routing import Routes
from analytics_pipeline.alerts.rules import parse_rules
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.alerts.platform_events import insert_endpoint_events
from analytics_pipeline_tests.api.conftest import FrozenClock
from analytics_pipeline_tests.api.portal.helpers import sign_in, table_rows
from analytics_pipeline_tests.tracing.conftest import FIRST_KEY, SECOND_KEY, traced_warehouse  # noqa: F401


def test_the_sre_page_search_box_traces_a_request_in_the_browser(start_api, traced_warehouse, browser,  # noqa: F811
                                                                 screenshots):
    api = start_api(traced_warehouse)
    token, _ = api.key(None, name="sre", finance=True)
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(f"{api.url}/portal/sign-in")
    page.fill("#api_key", token)
    page.click("form[action='/portal/sign-in'] button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{api.url}/portal/internal/sre")
    assert page.locator("#sre-open-alerts").get_by_text("No open alerts.").is_visible()
    page.fill(".trace-search input[name=request_id]", "req-ok")
    page.click(".trace-search button[type=submit]")
    page.wait_for_url("**/portal/internal/trace?request_id=req-ok")
    sections = page.locator("section.trace h2").all_inner_texts()
    assert sections == ["org-a", "org-b"]
    org_a = page.locator("#trace-1 .trace-lines tbody tr").all_inner_texts()
    assert f"object {FIRST_KEY}, line 1" in org_a[0] and org_a[0].startswith("accepted")
    assert org_a[1].startswith("duplicate") and f"duplicate of object {FIRST_KEY}, line 1" in org_a[1]
    assert "Price: 0.0039" in page.locator("#trace-1 .trace-price").inner_text()
    page.screenshot(path=screenshots / "trace.png", full_page=True)
    context.close()


def test_an_organization_traces_its_own_requests_from_its_pages_only(start_api, traced_warehouse):  # noqa: F811
    api = start_api(traced_warehouse)
    org_b = sign_in(api, api.key("org-b", name="b")[0])
    usage = org_b.get("/portal/orgs/org-b/usage").text
    assert 'href="/portal/orgs/org-b/trace"' in usage  # found from the organization's own pages
    empty = org_b.get("/portal/orgs/org-b/trace").text
    assert 'action="/portal/orgs/org-b/trace"' in empty and "trace-lines" not in empty
    own = org_b.get("/portal/orgs/org-b/trace", params={"request_id": "req-ok"})
    assert own.status_code == 200 and SECOND_KEY in own.text and FIRST_KEY not in own.text
    assert 'id="trace-not-found"' in org_b.get("/portal/orgs/org-b/trace", params={"request_id": "req-bad"}).text
    refused = org_b.get("/portal/orgs/org-a/trace", params={"request_id": "req-ok"})
    assert refused.status_code == 403 and FIRST_KEY not in refused.text
    assert org_b.get("/portal/internal/trace", params={"request_id": "req-ok"}).status_code == 403


NOW = datetime(2026, 11, 3, 12, 30, tzinfo=UTC)
RULES = parse_rules("[evaluation]\nhold_seconds = 0\n"
                    "[[rules]]\nname='availability'\nkind='endpoint_availability'\nseverity='critical'\n")


def test_open_incidents_and_silent_endpoints_on_the_status_page_and_alerts_on_the_sre_page(start_api, warehouse_url):
    from analytics_pipeline.metrics.sre import replace_endpoint_metrics

    with connect(warehouse_url) as conn:
        # /v1/embeddings had traffic yesterday and is silent now; /v1/chat fails now.
        insert_endpoint_events(conn, endpoint="/v1/embeddings", start=NOW - timedelta(days=1), count=100)
        insert_endpoint_events(conn, endpoint="/v1/chat", start=NOW - timedelta(minutes=10), count=200, status=502,
                               spacing=timedelta(seconds=2))
        replace_endpoint_metrics(conn, NOW - timedelta(days=2), NOW + timedelta(hours=1))
        evaluate_and_dispatch(conn, RULES, Routes(), now=NOW)
    api = start_api(warehouse_url, clock=FrozenClock(NOW))
    status = api.client.get("/portal/status").text
    assert table_rows(status, "open-incidents") == [["Elevated server errors on /v1/chat", "2026-11-03 12:30"]]
    assert "502" not in status.split('id="open-incidents"')[1].split("</table>")[0]  # no counts on the public page
    assert table_rows(status, "silent-endpoints") == [["/v1/embeddings", "No recent data", "2026-11-02 12:00"]]
    sre = sign_in(api, api.key(None, name="sre", finance=True)[0]).get("/portal/internal/sre").text
    [alert] = table_rows(sre, "sre-open-alerts")
    assert alert[:3] == ["critical", "firing", "2026-11-03 12:30"] and alert[4] == "availability/critical//v1/chat"


def test_the_sre_page_shows_system_health_from_the_metric_streams(start_api, warehouse_url, tmp_path):
    from analytics_pipeline.generator.metric_streams import hour_object
    from analytics_pipeline.storage.object_store import LocalDirectoryStore
    from analytics_pipeline.system_health.loader import load_object

    store = LocalDirectoryStore(tmp_path / "streams")
    hour = NOW.replace(minute=0) - timedelta(hours=1)
    key, body, _ = hour_object(hour, seed=7, incident=True)
    with connect(warehouse_url) as conn:
        assert load_object(conn, store, store.write(key, body), now=NOW).datapoints == 600
    api = start_api(warehouse_url, clock=FrozenClock(NOW))
    sre = sign_in(api, api.key(None, name="sre", finance=True)[0]).get("/portal/internal/sre").text
    rows = {(r[0], r[1], r[2]): r for r in table_rows(sre, "sre-system-health")}
    assert len(rows) == 10
    cpu = rows[("AWS/ECS", "analytics/api", "CPUUtilization")]
    assert 96.0 <= float(cpu[4]) <= 99.0  # the planted hour of saturated CPU
    assert rows[("AWS/RDS", "analytics-warehouse", "DatabaseConnections")][7] == "Count"
    assert int(rows[("AWS/ApplicationELB", "app/analytics-api/50dc6c495c0c9188", "HTTPCode_Target_5XX_Count")][6]
               .replace(",", "")) >= 60 * 250
