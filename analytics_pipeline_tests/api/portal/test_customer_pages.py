"""The customer pages over HTTP against a month of usage: every table cell equals the rollups'
sums (computed here in SQL, apart from the portal's queries), ranges without data say so, bad
ranges are refused with the reason."""

from __future__ import annotations

from decimal import Decimal

import pytest

from analytics_pipeline.rollups.latency import RELATIVE_ERROR
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.api.data import ORG
from analytics_pipeline_tests.api.portal.data import THIRD_ORG, load_month
from analytics_pipeline_tests.api.portal.helpers import money, number, sign_in, table_rows


@pytest.fixture(scope="module")
def portal(module_api):
    load_month(module_api.database_url)
    token, _ = module_api.key(ORG)
    return module_api, sign_in(module_api, token)


def _sql(api, query: str, *params) -> list[tuple]:
    with connect(api.database_url, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def test_usage_per_day_equals_the_daily_rollups(portal):
    api, client = portal
    page = client.get(f"/portal/orgs/{ORG}/usage?start=2024-01-01&end=2024-01-31")
    assert page.status_code == 200
    shown = [(row[0], number(row[1]), number(row[2]), number(row[3]), number(row[4]), number(row[5]))
             for row in table_rows(page.text, "usage-table")]
    expected = _sql(api, """
        SELECT to_char(bucket_start AT TIME ZONE 'UTC', 'YYYY-MM-DD'), sum(request_count), sum(tokens_input),
               sum(tokens_output), sum(tokens_total), sum(error_count)
        FROM analytics_daily_rollups WHERE organization_id = %s GROUP BY 1 ORDER BY 1""", ORG)
    assert shown == [tuple(row) for row in expected] and len(shown) == 31
    (total,) = _sql(api, "SELECT sum(request_count) FROM analytics_hourly_rollups WHERE organization_id = %s", ORG)
    assert f'<dd data-value="{total[0]}">' in page.text


def test_usage_per_hour_equals_the_hourly_rollups(portal):
    api, client = portal
    page = client.get(f"/portal/orgs/{ORG}/usage?start=2024-01-05&end=2024-01-06&granularity=hourly")
    shown = [(row[0], number(row[1]), number(row[4])) for row in table_rows(page.text, "usage-table")]
    expected = _sql(api, """
        SELECT to_char(bucket_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:00'), sum(request_count), sum(tokens_total)
        FROM analytics_hourly_rollups
        WHERE organization_id = %s AND bucket_start >= '2024-01-05' AND bucket_start < '2024-01-07'
        GROUP BY 1 ORDER BY 1""", ORG)
    assert shown == [tuple(row) for row in expected] and shown


def test_costs_by_model_and_day_equal_the_rollups_and_add_up_to_the_total(portal):
    api, client = portal
    page = client.get(f"/portal/orgs/{ORG}/costs?month=2024-01")
    by_model = {row[0]: (number(row[1]), money(row[3])) for row in table_rows(page.text, "cost-by-model")}
    exact = {model or "(none)": (requests, cost) for model, requests, cost in _sql(api, """
        SELECT model_id, sum(request_count), sum(cost_total) FROM analytics_daily_rollups
        WHERE organization_id = %s AND bucket_start >= '2024-01-01' AND bucket_start < '2024-02-01'
        GROUP BY 1""", ORG)}
    assert {model: requests for model, (requests, _) in by_model.items()} == \
        {model: requests for model, (requests, _) in exact.items()}
    # Each row is within a cent of its exact cost (the money module's rule: rows by largest remainder).
    assert all(abs(cost - exact[model][1]) < Decimal("0.01") for model, (_, cost) in by_model.items())
    by_day = [money(row[3]) for row in table_rows(page.text, "cost-by-day")]
    (total,) = _sql(api, "SELECT round(sum(cost_total), 2) FROM analytics_hourly_rollups WHERE organization_id = %s "
                         "AND bucket_start < '2024-02-01'", ORG)
    # The rows of either table add up to the total shown, the exact sum to the cent.
    assert sum(by_day) == total[0] == sum(cost for _, cost in by_model.values())
    assert "Month total" in page.text and f"{Decimal(total[0]):,.2f} USD" in page.text


def test_performance_per_endpoint_equals_the_endpoint_rollups(portal):
    api, client = portal
    page = client.get(f"/portal/orgs/{ORG}/performance?start=2024-01-01&end=2024-01-31")
    rows = table_rows(page.text, "endpoint-summary")
    summary = {row[0]: (number(row[1]), number(row[3]), number(row[8])) for row in rows}
    expected = {endpoint: (requests, server_errors, requests) for endpoint, requests, server_errors in _sql(
        api, """SELECT endpoint, sum(request_count), sum(server_error_count)
                FROM analytics_endpoint_daily_rollups WHERE organization_id = %s GROUP BY 1""", ORG)}
    assert summary == expected and len(summary) == 4
    # The range's percentiles, not its highest day: within the sketch's 1 % (and the page's 0.1 ms) of the
    # exact percentile_cont over the month's raw events of each endpoint.
    exact = {endpoint: percentiles for endpoint, percentiles in _sql(api, """
        SELECT coalesce(endpoint, '(none)'), percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY duration_ms)
        FROM analytics_events WHERE organization_id = %s AND event_time < '2024-02-01' GROUP BY 1""", ORG)}
    for row in rows:
        shown = [float(cell.removesuffix(" few").replace(",", "")) for cell in row[5:8]]
        assert shown == pytest.approx(exact[row[0]], rel=RELATIVE_ERROR, abs=0.05), row
    days = table_rows(page.text, "endpoint-days")
    assert len(days) == _sql(api, "SELECT count(*) FROM analytics_endpoint_daily_rollups WHERE organization_id = %s",
                             ORG)[0][0]


@pytest.mark.parametrize("page", ["usage", "performance"])
def test_a_range_without_data_says_so_and_draws_no_chart(portal, page):
    _, client = portal
    response = client.get(f"/portal/orgs/{ORG}/{page}?start=2023-06-01&end=2023-06-30")
    assert response.status_code == 200
    assert "between 2023-06-01 and 2023-06-30." in response.text and "data-chart" not in response.text


def test_a_month_without_usage_says_so(portal):
    _, client = portal
    response = client.get(f"/portal/orgs/{ORG}/costs?month=2023-06")
    assert "No usage between 2023-06-01 and 2023-06-30." in response.text and "data-chart" not in response.text


def test_the_default_range_ends_on_the_last_day_with_usage(portal):
    api, _ = portal
    token, _ = api.key(THIRD_ORG)
    client = sign_in(api, token)
    page = client.get(f"/portal/orgs/{THIRD_ORG}/usage")
    assert 'name="end" value="2024-01-20"' in page.text and 'name="start" value="2023-12-22"' in page.text


@pytest.mark.parametrize(("query", "code"), [
    ("start=2024-01-31&end=2024-01-01", "end_before_start"),
    ("start=2024-01-01&end=2024-03-01&granularity=hourly", "range_too_long"),
    ("start=yesterday", "invalid_date"),
    ("granularity=weekly", "invalid_granularity"),
])
def test_a_bad_range_is_refused_with_the_reason(portal, query, code):
    _, client = portal
    response = client.get(f"/portal/orgs/{ORG}/usage?{query}")
    assert response.status_code == 422 and code in response.text
    assert response.headers["content-type"].startswith("text/html")


def test_an_unknown_portal_page_is_a_404_page(portal):
    _, client = portal
    response = client.get(f"/portal/orgs/{ORG}/nothing-here")
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")


def test_the_chart_library_is_served_by_the_api_itself(portal):
    api, client = portal
    page = client.get(f"/portal/orgs/{ORG}/usage?start=2024-01-01&end=2024-01-31")
    assert '<script defer src="/portal/static/vendor/uplot-1.6.32/uPlot.iife.min.js">' in page.text
    assert "http" not in "".join(line for line in page.text.splitlines() if "<script" in line or "<link" in line)
    library = client.get("/portal/static/vendor/uplot-1.6.32/uPlot.iife.min.js")
    assert library.status_code == 200 and library.text.startswith("/*! https://github.com/leeoniya/uPlot (v1.6.32)")
    assert client.get("/portal/static/vendor/uplot-1.6.32/LICENSE").status_code == 200
