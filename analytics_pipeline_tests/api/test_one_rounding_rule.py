"""The one rounding rule for money (analytics_pipeline.money), proven over random costs on every surface
that shows them: a displayed total is the exact sum rounded half up, and the displayed rows add up to it.

The pure rule first, then the surfaces end to end on one warehouse: the CSV export (rows and manifest
totals, 4 decimals), the API's ``/usage`` (rows and ``totals.costTotal``, 4 decimals), and the portal's
costs page and business page (rows and totals, 2 decimals), each from the same random daily rollups."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics_pipeline.exports.usage_csv import ExportGranularity, query_export_rows, render_csv
from analytics_pipeline.metrics.revenue import replace_monthly_revenue
from analytics_pipeline.money import CENT, CSV_QUANTUM, format_money, largest_remainder, round_half_up, rounded_rows
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.api.conftest import ApiServers, FrozenClock
from analytics_pipeline_tests.api.portal.helpers import money, sign_in, table_rows

ORG = "org-money"
MONTH = date(2025, 3, 1)
#: Costs as the rollups hold them: up to 8 decimals (prices per token), some credits.
COSTS = st.decimals(min_value=Decimal("-5"), max_value=Decimal("100000"), places=8, allow_nan=False,
                    allow_infinity=False)


@given(st.lists(st.one_of(COSTS, st.none()), max_size=60), st.sampled_from([CENT, CSV_QUANTUM]))
def test_displayed_rows_add_up_to_the_displayed_total(amounts, quantum):
    rows, total = rounded_rows(amounts, quantum)
    exact = sum((a for a in amounts if a is not None), Decimal(0))
    assert total == round_half_up(exact, quantum)
    assert sum((r for r in rows if r is not None), Decimal(0)) == total
    for shown, amount in zip(rows, amounts, strict=True):
        assert (shown is None) == (amount is None)
        if amount is not None:
            assert shown == shown.quantize(quantum) and abs(shown - amount) < quantum


@given(st.dictionaries(st.text(min_size=1, max_size=3), COSTS, min_size=1, max_size=20))
def test_largest_remainder_reaches_any_reachable_total(exact):
    total = round_half_up(sum(exact.values(), Decimal(0)))
    assert sum(largest_remainder(exact, total).values(), Decimal(0)) == total


def test_format_money_is_two_decimals_half_up_with_separators():
    assert format_money(Decimal("1234.565")) == "1,234.57" and format_money(Decimal("-0.005")) == "-0.01"
    assert format_money(None) == "–" and format_money(Decimal("7")) == "7.00"


@pytest.fixture(scope="module")
def surfaces(tmp_path_factory, module_warehouse_url):
    servers = ApiServers(tmp_path_factory.mktemp("money-api"))
    api = servers.start(module_warehouse_url, clock=FrozenClock(datetime(2025, 4, 20, 12, tzinfo=UTC)))
    org_token = api.key(ORG)[0]
    yield api, org_token, sign_in(api, org_token), sign_in(api, api.key(None, name="finance", finance=True)[0])
    servers.stop()


def _load(database_url: str, rows: list[tuple[int, str, Decimal]]) -> None:
    """``rows`` (day of month, model, cost) as the daily rollups of ORG in MONTH, and the month's revenue."""
    with connect(database_url) as conn:
        conn.execute("DELETE FROM analytics_daily_rollups")
        for day, model, cost in rows:
            conn.execute(
                "INSERT INTO analytics_daily_rollups (bucket_start, organization_id, model_id, request_count, "
                "tokens_input, tokens_output, tokens_total, error_count, client_error_count, server_error_count, "
                "cost_total) VALUES (%s, %s, %s, 1, 1, 0, 1, 0, 0, 0, %s) "
                "ON CONFLICT DO NOTHING",
                (datetime(MONTH.year, MONTH.month, day, tzinfo=UTC), ORG, model, cost))
        conn.commit()
        replace_monthly_revenue(conn, MONTH)
        conn.commit()


ROLLUPS = st.lists(st.tuples(st.integers(1, 31), st.sampled_from(["model-a", "model-b", "model-c"]),
                             COSTS.filter(lambda c: c >= 0)),
                   min_size=1, max_size=40, unique_by=lambda r: (r[0], r[1]))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROLLUPS)
def test_every_surface_shows_rows_that_add_up_to_its_total(surfaces, rows):
    api, org_token, customer, finance = surfaces
    _load(api.database_url, rows)
    exact = sum((cost for _, _, cost in rows), Decimal(0))
    start, end = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC)

    # The CSV export: the cost column sums to the manifest's total, the exact sum at 4 decimals.
    with connect(api.database_url) as conn:
        for granularity, by_model in ((ExportGranularity.DAILY, True), (ExportGranularity.MONTHLY, False)):
            data, totals = render_csv(query_export_rows(conn, granularity=granularity, range_start=start,
                                                        range_end=end, organization_id=ORG, by_model=by_model))
            column = [Decimal(r["cost_total"]) for r in csv.DictReader(io.StringIO(data.decode()))]
            assert sum(column, Decimal(0)) == totals.cost_total == round_half_up(exact, CSV_QUANTUM)

    # The API's /usage: its rows sum to totals.costTotal, the same 4-decimal total as the CSV.
    body = api.client.get(f"/analytics/v1/orgs/{ORG}/usage", headers=api.auth(org_token),
                          params={"start": "2025-03-01", "end": "2025-04-01", "granularity": "daily"}).json()
    assert sum((Decimal(r["costTotal"]) for r in body["series"]), Decimal(0)) == Decimal(body["totals"]["costTotal"])
    assert Decimal(body["totals"]["costTotal"]) == round_half_up(exact, CSV_QUANTUM)

    # The portal's costs page: by model and by day, rows in cents adding up to the total in cents.
    page = customer.get(f"/portal/orgs/{ORG}/costs?month=2025-03").text
    for table in ("cost-by-model", "cost-by-day"):
        shown = [money(row[3]) for row in table_rows(page, table)]
        footer = re.search(rf'<table id="{table}".*?<tfoot>.*?<td data-value="[^"]*">([^<]*)</td>', page, re.S)[1]
        assert sum(shown, Decimal(0)) == money(footer) == round_half_up(exact, CENT), table

    # The business page: the MRR column (billed revenue, here the usage revenue) adds up to its total and KPI.
    page = finance.get("/portal/internal/business?month=2025-03").text
    shown = [money(row[2]) for row in table_rows(page, "customers")]
    footer = re.search(r'<table id="customers".*?<tfoot>.*?<td data-label="MRR"[^>]*>([^<]*)</td>', page, re.S)[1]
    kpi = re.search(r"<dt>MRR \(USD\)</dt><dd[^>]*>([^<]*)</dd>", page)[1]
    assert sum(shown, Decimal(0)) == money(footer) == money(kpi) == round_half_up(exact, CENT)
