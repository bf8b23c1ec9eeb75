"""The portal in a real browser (headless Chromium through Playwright): sign in with a key, read
the organization's numbers (equal to the rollups), request an export through the form and
download it, be refused another organization's page, sign out; see the status page without a
key; open the internal pages with a finance-wide key. The key appears in no page, URL or cookie.
A screenshot of each page is written (see conftest.py)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from analytics_pipeline.api.security import parse_key
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.api.conftest import FrozenClock
from analytics_pipeline_tests.api.data import ORG, OTHER_ORG, export_resources, run_pending_exports
from analytics_pipeline_tests.api.portal.data import ORGS, THIRD_ORG, load_month

VIEWPORT = {"width": 1200, "height": 900}


def _sql(url: str, query: str, *params) -> list[tuple]:
    with connect(url, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def _cells(page, table_id: str, column: int) -> list[str]:
    return page.locator(f"#{table_id} tbody tr").evaluate_all(
        f"rows => rows.map(r => r.children[{column}].textContent.trim())")


def _no_key_anywhere(page, context, token: str) -> None:
    _, secret = parse_key(token)  # the secret itself may contain "_"
    for text in (page.content(), page.url, *(c["value"] for c in context.cookies())):
        assert token not in text and secret not in text
    stored = page.evaluate("() => JSON.stringify(Object.assign({}, window.localStorage, window.sessionStorage))")
    assert secret not in stored


def test_a_customer_signs_in_reads_its_numbers_exports_and_is_refused_another_organization(
        start_api, warehouse_url, dagster_instance, browser, screenshots):
    load_month(warehouse_url)
    api = start_api(warehouse_url)
    token, _ = api.key(ORG, name="Ada (finance)")
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # Signed out, a page sends the browser to the form; the key typed there brings it back.
    page.goto(f"{api.url}/portal/orgs/{ORG}/usage?start=2024-01-01&end=2024-01-31")
    assert "/portal/sign-in" in page.url and page.get_by_text("Sign in with an API key to see this page.").is_visible()
    page.screenshot(path=screenshots / "sign-in.png")
    page.fill("#api_key", token)
    page.click("form[action='/portal/sign-in'] button[type=submit]")
    page.wait_for_url(f"**/portal/orgs/{ORG}/usage?start=2024-01-01&end=2024-01-31")
    page.wait_for_selector("html[data-charts-drawn='1'] .uplot canvas")  # uPlot drew the chart
    expected = _sql(warehouse_url, "SELECT to_char(bucket_start AT TIME ZONE 'UTC', 'YYYY-MM-DD'), sum(request_count), "
                                   "sum(tokens_total) FROM analytics_daily_rollups WHERE organization_id = %s "
                                   "GROUP BY 1 ORDER BY 1", ORG)
    shown = list(zip(_cells(page, "usage-table", 0), _cells(page, "usage-table", 1), _cells(page, "usage-table", 4),
                     strict=True))
    assert [(day, int(r.replace(",", "")), int(t.replace(",", ""))) for day, r, t in shown] == [
        (day, int(r), int(t)) for day, r, t in expected]
    page.screenshot(path=screenshots / "usage.png")
    _no_key_anywhere(page, context, token)
    session_cookie = next(c for c in context.cookies() if c["name"] == "analytics_portal_session")
    assert session_cookie["httpOnly"] and session_cookie["sameSite"] == "Lax" and session_cookie["path"] == "/portal"
    assert page.evaluate("() => document.cookie") == ""  # HttpOnly: scripts cannot read it

    page.click("nav >> text=Costs")
    page.wait_for_selector("#cost-by-model")
    (month_total,) = _sql(warehouse_url, "SELECT round(sum(cost_total), 4) FROM analytics_daily_rollups "
                                         "WHERE organization_id = %s", ORG)
    assert page.locator("#cost-totals dd").first.get_attribute("data-value") == str(month_total[0])
    page.wait_for_selector(".uplot canvas")
    page.screenshot(path=screenshots / "costs.png")

    page.click("nav >> text=Performance")
    page.wait_for_selector("#endpoint-summary")
    page.screenshot(path=screenshots / "performance.png")

    # An export through the form, run by the pipeline, downloaded through the signed link.
    page.click("nav >> text=Exports")
    page.fill("input[name=start]", "2024-01-01")
    page.fill("input[name=end]", "2024-01-31")
    page.click("form.export button[type=submit]")
    page.wait_for_selector("#exports-table tr.created")
    assert page.locator("#exports-table tr.created .status").text_content().strip() == "pending"
    assert page.locator("#exports-table tr.created .requested-by").text_content().strip() == "Ada (finance)"
    page.evaluate("() => { window.sameDocument = true; }")  # gone if the page were reloaded
    [outcome] = run_pending_exports(dagster_instance, export_resources(warehouse_url,
                                                                       exports_url=api.settings.exports_url))
    assert outcome.success
    # The list follows the job by itself: pending, then succeeded, in the same document.
    page.wait_for_selector("#exports-table tr.created[data-status='succeeded'] a.download", timeout=15_000)
    assert page.evaluate("() => window.sameDocument") is True
    with page.expect_download() as download_info:
        page.click("#exports-table tr.created a.download")
    download = download_info.value
    assert download.suggested_filename == f"usage_daily_{ORG}_2024-01-01_2024-01-31.csv"
    content = open(download.path(), "rb").read()
    ((checksum, rows),) = _sql(warehouse_url, "SELECT checksum, row_count FROM analytics_export_jobs "
                                              "WHERE organization_id = %s", ORG)
    assert checksum == "sha256:" + hashlib.sha256(content).hexdigest() and content.startswith(b"bucket_start,")
    assert content.count(b"\n") == rows + 1
    page.screenshot(path=screenshots / "exports.png")
    _no_key_anywhere(page, context, token)

    # Another organization's page: refused, nothing of it shown.
    response = page.goto(f"{api.url}/portal/orgs/{OTHER_ORG}/usage?start=2024-01-01&end=2024-01-31")
    assert response.status == 403 and page.get_by_text("Not yours to see").is_visible()
    assert OTHER_ORG not in page.content() and page.locator("table").count() == 0
    page.screenshot(path=screenshots / "refused.png")

    page.click("form.sign-out button")
    page.wait_for_url("**/portal/sign-in?reason=signed_out")
    assert not [c for c in context.cookies() if c["name"] == "analytics_portal_session"]
    page.goto(f"{api.url}/portal/orgs/{ORG}/usage")
    assert "/portal/sign-in" in page.url
    assert errors == []
    context.close()


def test_the_status_page_without_a_key_and_the_internal_pages_with_a_finance_key(
        start_api, warehouse_url, browser, screenshots):
    load_month(warehouse_url)
    api = start_api(warehouse_url, clock=FrozenClock(datetime(2024, 1, 31, 20, 30, tzinfo=UTC)))
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(f"{api.url}/portal/status")
    assert response.status == 200 and "/portal/status" in page.url  # no sign-in asked for
    page.wait_for_selector("html[data-charts-drawn='1'] .uplot canvas")
    assert page.locator("#platform-state").text_content() in ("Operational", "Degraded", "Outage")
    assert page.locator("#endpoint-states tbody tr").count() == 4
    assert not any(org in page.content() for org in ORGS) and context.cookies() == []
    page.screenshot(path=screenshots / "status.png")

    token, _ = api.key(None, name="Marcus (business)", finance=True)
    page.goto(f"{api.url}/portal/sign-in")
    page.fill("#api_key", token)
    page.click("form[action='/portal/sign-in'] button[type=submit]")
    page.wait_for_url("**/portal/internal/business")
    page.wait_for_selector(".uplot canvas")
    assert THIRD_ORG in page.locator("#at-risk").text_content()
    page.screenshot(path=screenshots / "business.png")
    page.click("nav >> text=SRE")
    page.wait_for_selector("#sre-endpoints")
    page.wait_for_selector("html[data-charts-drawn='3']")
    page.screenshot(path=screenshots / "sre.png")
    # A finance-wide session opens any customer's pages, from the business page's links.
    page.click("nav >> text=Business")
    page.click(f"#top-revenue a:has-text('{ORG}')")
    page.wait_for_url(f"**/portal/orgs/{ORG}/usage")
    _no_key_anywhere(page, context, token)
    assert errors == []
    context.close()
