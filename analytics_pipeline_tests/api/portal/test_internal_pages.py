"""The internal pages (a finance-wide key's session) and the metrics on the customer pages, over
HTTP: business and SRE figures equal the metrics tables; an organization's session is refused;
agent invocations and the month-end forecast on the customer pages equal issue 14's metrics."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from analytics_pipeline.money import CENT, format_money, round_half_up
from analytics_pipeline.rollups.latency import RELATIVE_ERROR
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline.warehouse.sql import load_sql
from analytics_pipeline_tests.api.conftest import ApiServers, FrozenClock
from analytics_pipeline_tests.api.data import ORG
from analytics_pipeline_tests.api.portal.data import GHOST_ORG, THIRD_ORG, load_costs, load_month
from analytics_pipeline_tests.api.portal.helpers import money, number, portal_client, sign_in, table_rows

NOW = datetime(2024, 1, 31, 20, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def internal(tmp_path_factory, module_warehouse_url):
    load_month(module_warehouse_url)
    load_costs(module_warehouse_url)
    servers = ApiServers(tmp_path_factory.mktemp("internal-api"))
    api = servers.start(module_warehouse_url, clock=FrozenClock(NOW))
    yield api, sign_in(api, api.key(None, name="Marcus", finance=True)[0])
    servers.stop()


def _sql(api, query: str, *params) -> list[tuple]:
    with connect(api.database_url, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def test_an_organizations_session_is_refused_the_internal_pages(internal):
    api, _ = internal
    client = sign_in(api, api.key(ORG)[0])
    for page in ("business", "sre"):
        response = client.get(f"/portal/internal/{page}")
        assert response.status_code == 403 and "internal_pages_refused" in response.text
        assert THIRD_ORG not in response.text and "<table" not in response.text
    unsigned = portal_client(api).get("/portal/internal/sre")
    assert unsigned.status_code == 303 and "next=%2Fportal%2Finternal%2Fsre" in unsigned.headers["location"]


def test_the_business_page_equals_the_metrics(internal):
    api, client = internal
    page = client.get("/portal/internal/business")
    assert page.status_code == 200 and "Business <span class=\"sub\">2024-01</span>" in page.text
    mrr = _sql(api, "SELECT sum(billed_revenue) FROM analytics_monthly_revenue WHERE month = '2024-01-01'")[0][0]
    assert f'<dd data-value="{Decimal(mrr).quantize(Decimal("0.0001"))}">' in page.text
    customers = {row[0]: money(row[2]) for row in table_rows(page.text, "customers")}
    assert customers == {org: round_half_up(Decimal(v)) for org, v in _sql(
        api, "SELECT organization_id, billed_revenue FROM analytics_monthly_revenue WHERE month = '2024-01-01'")}
    top = [(int(row[0]), row[1]) for row in table_rows(page.text, "top-revenue")]
    assert top == _sql(api, "SELECT rank, organization_id FROM analytics_top_customers WHERE month = '2024-01-01' "
                            "AND ranking = 'revenue' ORDER BY rank")
    at_risk = {row[0]: (int(row[1]), row[2]) for row in table_rows(page.text, "at-risk")}
    expected = {org: (score, band.replace("_", " ")) for org, score, band in _sql(api, """
        SELECT organization_id, score, band FROM analytics_customer_health_daily
        WHERE day = '2024-01-31' AND (band <> 'healthy' OR churn_signal)""")}
    assert at_risk == expected and THIRD_ORG in at_risk  # the organization that went quiet on the 20th
    days = [(row[0], number(row[1]), number(row[4])) for row in table_rows(page.text, "business-days")]
    assert days == [(d.isoformat(), a, r) for d, a, r in _sql(
        api, "SELECT day, active_customers, request_count FROM analytics_customer_activity_daily ORDER BY day")]


def test_the_sre_page_equals_the_hourly_metrics(internal):
    api, client = internal
    page = client.get("/portal/internal/sre?start=2024-01-01&end=2024-01-31")
    assert page.status_code == 200
    rows = table_rows(page.text, "sre-endpoints")
    endpoints = {row[0]: (number(row[1]), number(row[2]), number(row[3]), number(row[9])) for row in rows}
    assert endpoints == {e: (r, c, s, r) for e, r, c, s in _sql(api, """
        SELECT endpoint, sum(request_count), sum(status_4xx), sum(status_5xx) FROM analytics_endpoint_hourly_metrics
        WHERE organization_id IS NULL GROUP BY 1""")}
    # The range's latency percentiles, not its highest hour: within the sketch's 1 % (and the page's 0.1 ms) of
    # the exact percentile_cont over every organization's raw events of each endpoint.
    exact = dict(_sql(api, """
        SELECT coalesce(endpoint, '(none)'), percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY duration_ms)
        FROM analytics_events WHERE event_time >= '2024-01-01' AND event_time < '2024-02-01' GROUP BY 1"""))
    for row in rows:
        shown = [float(cell.replace(",", "")) for cell in row[6:9]]
        assert shown == pytest.approx(exact[row[0]], rel=RELATIVE_ERROR, abs=0.05), row
    errors = {(row[0], row[1]): number(row[2]) for row in table_rows(page.text, "sre-error-types")}
    assert errors == {(c, t): n for c, t, n in _sql(api, """
        SELECT status_class, error_type, sum(error_count) FROM analytics_error_type_hourly
        WHERE organization_id IS NULL GROUP BY 1, 2""")}
    agents = {row[0]: number(row[1]) for row in table_rows(page.text, "sre-agents")}
    assert agents == dict(_sql(api, "SELECT agent_type, sum(invocations) FROM analytics_agent_hourly_metrics "
                                    "WHERE organization_id IS NULL GROUP BY 1")) and agents
    peaks = table_rows(page.text, "sre-session-peaks")
    assert [row[0] for row in peaks] and number(peaks[0][1]) == _sql(
        api, "SELECT max(peak_concurrent_sessions) FROM analytics_session_concurrency_hourly")[0][0]


def test_the_default_sre_range_is_the_last_seven_days_with_data(internal):
    _, client = internal
    page = client.get("/portal/internal/sre")
    assert 'name="start" value="2024-01-25"' in page.text and 'name="end" value="2024-01-31"' in page.text


def test_agent_invocations_on_the_usage_page_equal_the_agent_metrics(internal):
    api, client = internal
    page = client.get(f"/portal/orgs/{ORG}/usage?start=2024-01-01&end=2024-01-31")
    shown = {row[0]: number(row[6]) for row in table_rows(page.text, "usage-table")}
    expected = {d: n for d, n in _sql(api, """
        SELECT to_char(bucket_start AT TIME ZONE 'UTC', 'YYYY-MM-DD'), sum(invocations)
        FROM analytics_agent_hourly_metrics WHERE organization_id = %s GROUP BY 1""", ORG)}
    assert {d: n for d, n in shown.items() if n} == expected and sum(expected.values()) > 0


def test_the_cost_page_of_the_current_month_shows_yesterdays_forecast(internal):
    api, client = internal
    page = client.get(f"/portal/orgs/{ORG}/costs?month=2024-01")
    ((as_of, forecast, run_rate),) = _sql(api, """
        SELECT as_of, cost_forecast, cost_run_rate FROM analytics_usage_forecasts
        WHERE organization_id = %s AND month = '2024-01-01' AND as_of = '2024-01-30'""", ORG)
    assert "Month to date (through 2024-01-31)" in page.text
    assert f'<dd data-value="{Decimal(forecast).quantize(Decimal("0.0001"))}">' in page.text
    assert f"Forecast as of {as_of.isoformat()} (30 of 31 days)" in page.text
    assert f"{format_money(Decimal(run_rate))} USD" in page.text
    earlier = client.get(f"/portal/orgs/{ORG}/costs?month=2023-12")
    assert "No usage between 2023-12-01 and 2023-12-31." in earlier.text and "forecast" not in earlier.text.lower()


def _tbody_rows(page: str, table_id: str, opening: str) -> list[list[str]]:
    """The rows of the part of table ``table_id`` that opens with ``opening`` (a tbody or the tfoot)."""
    match = re.search(rf'<table id="{table_id}"[^>]*>(.*?)</table>', page, re.S)
    part = re.search(rf"<{opening}[^>]*>(.*?)</{opening.split()[0]}>", match[1], re.S)
    return table_rows(f'<table id="t"><tbody>{part[1]}</tbody></table>', "t")


def test_the_business_page_drops_no_cost_and_its_totals_are_the_demos(internal):
    """Every attributed cent is on the page (the organization with cost and no usage on a line of its
    own, with why), the page's cost and margin equal the profitability rows' and what the demo prints
    (costs/demo_cost_summary), and each money column's rows add up to its displayed total."""
    api, client = internal
    page = client.get("/portal/internal/business?month=2024-01")
    assert page.status_code == 200
    [ghost] = _tbody_rows(page.text, "customers", 'tbody id="costs-without-customer"')
    assert ghost[0].startswith(GHOST_ORG) and "without usage" in ghost[0] and money(ghost[9]) == Decimal("10.50")
    _, _, attributed, demo_margin = _demo_summary(api)
    profit_cost, profit_margin, revenue = _sql(api, """
        SELECT sum(attributed_cost), sum(margin), sum(revenue) FROM analytics_tenant_profitability
        WHERE period_start = '2024-01-01' AND NOT is_month_to_date""")[0]
    mrr = _sql(api, "SELECT sum(billed_revenue) FROM analytics_monthly_revenue WHERE month = '2024-01-01'")[0][0]
    assert mrr == revenue  # no plans file: billed revenue is the usage revenue, as in the demo
    assert attributed == profit_cost and demo_margin == profit_margin
    totals = _dd_values(page.text, "business-totals")
    assert totals["Attributed cost (USD)"] == round_half_up(attributed) and attributed > Decimal("10.50")
    assert totals["Margin"] == round_half_up(demo_margin)
    [footer] = _tbody_rows(page.text, "customers", "tfoot")
    assert money(footer[9]) == round_half_up(attributed) and money(footer[10]) == round_half_up(demo_margin)
    body = table_rows(page.text, "customers") + [ghost]
    for column in (2, 4, 5, 6, 7, 8, 9, 10):
        shown = [money(row[column]) for row in body if row[column] != "–"]
        assert sum(shown, Decimal(0)) == money(footer[column]), column
        assert all(value == value.quantize(CENT) for value in shown)


def _demo_summary(api) -> tuple:
    """The cost lines the demo prints (``analytics-pipeline demo``'s summary reads this query)."""
    with connect(api.database_url, autocommit=True) as conn:
        return conn.execute(load_sql("costs/demo_cost_summary"),
                            {"range_start": datetime(2024, 1, 1, tzinfo=UTC),
                             "range_end": datetime(2024, 2, 1, tzinfo=UTC)}).fetchone()


def _dd_values(page: str, totals_id: str) -> dict[str, Decimal]:
    block = re.search(rf'<dl class="totals" id="{totals_id}">(.*?)</dl>', page, re.S)[1]
    return {re.sub(r"<[^>]+>", "", dt).strip(): money(re.sub(r"<[^>]+>|\(.*?\)", "", dd).strip())
            for dt, dd in re.findall(r"<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>", block, re.S)
            if dt.startswith(("Attributed", "Margin", "MRR"))}
