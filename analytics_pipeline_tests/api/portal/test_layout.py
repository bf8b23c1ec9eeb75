"""Every portal page fits its window in Chromium, at a laptop's 1366 px and a phone's 390 px: nothing
makes the page scroll sideways (a wide table scrolls inside its own box or folds into cards), the
charts stay inside their figure, and the names of the directory are shown with their ids."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from analytics_pipeline.directory.names import load_directory, parse_directory
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.api.conftest import ApiServers, FrozenClock
from analytics_pipeline_tests.api.data import ORG
from analytics_pipeline_tests.api.portal.data import load_costs, load_month

NAMES = {"organizations": {ORG: {"name": "Acme Analytics", "plan": "enterprise"}}, "models": {}}
CUSTOMER_PAGES = ("usage?start=2024-01-01&end=2024-01-31", "usage?start=2024-01-25&end=2024-01-31&granularity=hourly",
                  "performance?start=2024-01-01&end=2024-01-31", "costs?month=2024-01", "exports")
INTERNAL_PAGES = ("business?month=2024-01", "sre?start=2024-01-25&end=2024-01-31")
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')].filter(e => {
    const box = e.getBoundingClientRect();
    return box.width > 0 && box.right > width + 1 && !e.closest('table, .scroll, details');
  }).map(e => e.tagName + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''));
  return {scrollWidth: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5)};
}"""


@pytest.fixture(scope="module")
def portal(tmp_path_factory, module_warehouse_url):
    load_month(module_warehouse_url)
    load_costs(module_warehouse_url)
    with connect(module_warehouse_url) as conn:
        load_directory(conn, parse_directory(json.dumps(NAMES), fmt="json", source="test"), source="test")
    servers = ApiServers(tmp_path_factory.mktemp("layout-api"))
    yield servers.start(module_warehouse_url, clock=FrozenClock(datetime(2024, 1, 31, 20, 30, tzinfo=UTC)))
    servers.stop()


def _sign_in(page, api, token: str) -> None:
    page.goto(f"{api.url}/portal/sign-in")
    page.fill("#api_key", token)
    page.click("form[action='/portal/sign-in'] button[type=submit]")
    page.wait_for_load_state()


def _assert_fits(page, where: str) -> None:
    page.wait_for_load_state("load")
    charts = page.locator("[data-chart]").count()
    if charts:
        page.wait_for_selector(f"html[data-charts-drawn='{charts}']")
    measured = page.evaluate(OVERFLOW)
    assert measured["scrollWidth"] <= measured["width"], (where, measured)
    assert measured["wide"] == [], (where, measured)


@pytest.mark.parametrize("width", [1366, 390])
def test_every_page_fits_the_window_and_shows_names(portal, browser, screenshots, width):
    api = portal
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{api.url}/")  # a newcomer's address: the front door leads to the portal's sign-in
    assert "/portal/sign-in" in page.url
    _assert_fits(page, "sign-in")
    page.goto(f"{api.url}/portal/status")
    _assert_fits(page, "status, signed out")

    _sign_in(page, api, api.key(ORG, name="Ada")[0])
    for path in CUSTOMER_PAGES:
        page.goto(f"{api.url}/portal/orgs/{ORG}/{path}")
        assert "Acme Analytics" in page.locator("h1").text_content() and ORG in page.locator("h1").text_content()
        _assert_fits(page, path)
        page.screenshot(path=screenshots / f"{path.split('?')[0]}-{width}.png", full_page=True)
    page.goto(f"{api.url}/portal/status")
    assert page.locator("header nav a", has_text="Usage").count() == 1  # the signed-in navigation stays
    _assert_fits(page, "status, signed in")
    context.close()

    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    _sign_in(page, api, api.key(None, name="Marcus", finance=True)[0])
    for path in INTERNAL_PAGES:
        page.goto(f"{api.url}/portal/internal/{path}")
        _assert_fits(page, path)
        page.screenshot(path=screenshots / f"{path.split('?')[0]}-{width}.png", full_page=True)
    page.goto(f"{api.url}/portal/internal/business?month=2024-01")
    assert page.locator("#customers tbody tr", has_text="Acme Analytics").count() == 1
    if width == 1366:  # the profitability table's every column is in view, no scroll to reach them
        box = page.locator("#customers").bounding_box()
        assert box["x"] + box["width"] <= width
        assert page.evaluate("() => document.getElementById('customers').parentElement.scrollWidth "
                             "<= document.getElementById('customers').parentElement.clientWidth")
    context.close()
    assert errors == []


def test_the_front_door_and_the_docs_work_offline(portal, browser):
    """``/`` leads to the portal; ``/docs`` draws Swagger UI from the vendored files with every request
    to another host refused (as offline)."""
    api = portal
    front = api.client.get("/")
    assert front.status_code == 303 and front.headers["location"] == "/portal/"
    html = api.client.get("/docs").text
    assert "cdn." not in html and "/portal/static/vendor/swagger-ui-" in html
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    foreign = []

    def only_this_server(route):
        if route.request.url.startswith(api.url):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_server)
    page = context.new_page()
    page.goto(f"{api.url}/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert page.locator(".opblock").count() > 0 and foreign == []
    context.close()
