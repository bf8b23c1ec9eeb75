"""Infra cost loads, attribution by each driver, reconciliation and profitability on a real PostgreSQL."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from analytics_pipeline.costs.attribution import AllocationDriver, reconcile_with_infra_costs, replace_cost_attribution
from analytics_pipeline.costs.budgets import month_to_date_costs
from analytics_pipeline.costs.infra_costs import CostCategory, CostSource, Environment, InfraCost, replace_infra_costs
from analytics_pipeline.costs.profitability import replace_profitability, split_cents, top_tenants_table
from analytics_pipeline.defs.shared import markdown_table
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.costs.conftest import insert_daily_rollup
from analytics_pipeline_tests.event_rows import insert_events

D = Decimal
APRIL = datetime(2025, 4, 1, tzinfo=UTC)
DAY1, DAY2, DAY3 = date(2025, 4, 1), date(2025, 4, 2), date(2025, 4, 3)


@pytest.fixture
def conn(warehouse_url):
    with connect(warehouse_url) as conn:
        yield conn


def load(conn, rows, days):
    return replace_infra_costs(conn, rows, days=days, source=CostSource.focus, metric="BilledCost", run_id="r1")


def attribution(conn, day):
    return {org: (cost, status) for org, cost, status in conn.execute(
        "SELECT organization_id, attributed_cost, status FROM analytics_tenant_cost_attribution "
        "WHERE usage_date = %s", (day,))}


def test_reloading_days_replaces_them_and_leaves_the_others(conn):
    first = load(conn, [InfraCost(DAY1, "a", "EC2", D("1.5"), "USD"), InfraCost(DAY1, "a", "EC2", D("0.25"), "USD"),
                        InfraCost(DAY2, None, "VPC", D("2"), "USD", estimated=True)], [DAY1, DAY2])
    assert (first.row_count, first.total, first.tagged_total, first.estimated_days) == (2, D("3.75"), D("1.75"),
                                                                                         [DAY2])
    again = load(conn, [InfraCost(DAY2, None, "VPC", D("2.10"), "USD")], [DAY2])  # Cost Explorer revised day 2
    assert again.total == D("2.10")
    rows = conn.execute("SELECT usage_date, organization_id, amount, estimated, source FROM analytics_infra_costs "
                        "ORDER BY usage_date").fetchall()
    assert rows == [(DAY1, "a", D("1.75"), False, "focus"), (DAY2, None, D("2.10"), False, "focus")]


def setup_month(conn):
    load(conn, [
        InfraCost(DAY1, "org-a", "EC2", D("3.00"), "USD"), InfraCost(DAY1, "org-b", "EC2", D("1.00"), "USD"),
        InfraCost(DAY1, "org-c", "S3", D("0.50"), "USD"), InfraCost(DAY1, None, "VPC", D("2.00"), "USD"),
        InfraCost(DAY2, "org-a", "EC2", D("2.00"), "USD"), InfraCost(DAY2, None, "VPC", D("1.00"), "USD"),
        InfraCost(DAY3, None, "EKS", D("0.999"), "USD"),  # nobody used the service that day
    ], [DAY1, DAY2, DAY3])
    insert_daily_rollup(conn, DAY1, "org-a", requests=10, tokens=300, revenue="10.0000")
    insert_daily_rollup(conn, DAY1, "org-b", requests=30, tokens=100, revenue="2.25")
    insert_daily_rollup(conn, DAY2, "org-a", requests=5, tokens=50, revenue="5.5")
    conn.commit()


def test_attribution_by_tokens_with_every_edge_case(conn):
    setup_month(conn)
    summary = replace_cost_attribution(conn, APRIL, APRIL + timedelta(days=30), AllocationDriver.TOKENS)
    assert attribution(conn, DAY1) == {"org-a": (D("4.50"), "attributed"), "org-b": (D("1.50"), "attributed"),
                                       "org-c": (D("0.50"), "cost_without_usage")}
    assert attribution(conn, DAY2) == {"org-a": (D("3.00"), "attributed")}
    assert attribution(conn, DAY3) == {None: (D("1.00"), "unattributed")}
    assert (summary.total, summary.unattributed_total, summary.unattributed_days) == (D("10.50"), D("0.999"), [DAY3])
    assert summary.cost_without_usage == {"org-c": [DAY1]}
    assert all(day.difference == 0 for day in reconcile_with_infra_costs(conn, APRIL, APRIL + timedelta(days=30)))

    # Idempotent, and a rerun by requests moves the shared 2.00 of day 1 to 0.50 / 1.50.
    replace_cost_attribution(conn, APRIL, APRIL + timedelta(days=30), AllocationDriver.REQUESTS)
    assert attribution(conn, DAY1)["org-a"] == (D("3.50"), "attributed")
    assert conn.execute("SELECT count(*) FROM analytics_tenant_cost_attribution").fetchone()[0] == 5


def test_attribution_by_request_duration_reads_the_raw_events(conn):
    load(conn, [InfraCost(DAY1, None, "EC2", D("1.00"), "USD")], [DAY1])
    at = datetime(2025, 4, 1, 12, tzinfo=UTC)
    insert_events(conn, [(at, "org-a", "r1", "m1", 200, 300.0, None, 1, 1),
                         (at, "org-b", "r2", "m1", 200, 100.0, None, 99, 99),
                         (at, "org-b", "r3", None, 200, None, None, None, None)])  # no duration: counts as 0
    conn.commit()
    replace_cost_attribution(conn, APRIL, APRIL + timedelta(days=1), AllocationDriver.DURATION)
    assert attribution(conn, DAY1) == {"org-a": (D("0.75"), "usage_without_direct_cost"),
                                       "org-b": (D("0.25"), "usage_without_direct_cost")}


def test_reconciliation_sees_a_lost_cent_and_a_day_never_attributed(conn):
    setup_month(conn)
    replace_cost_attribution(conn, APRIL, APRIL + timedelta(days=2), AllocationDriver.TOKENS)  # days 1-2 only
    conn.execute("UPDATE analytics_tenant_cost_attribution SET attributed_cost = attributed_cost - 0.01 "
                 "WHERE usage_date = %s AND organization_id = 'org-b'", (DAY1,))
    days = {d.usage_date: d.difference for d in reconcile_with_infra_costs(conn, APRIL, APRIL + timedelta(days=30))}
    assert days == {DAY1: D("-0.01"), DAY2: D("0.00"), DAY3: D("-1.00")}


def test_profitability_of_a_hand_checked_month(conn):
    setup_month(conn)
    replace_cost_attribution(conn, APRIL, APRIL + timedelta(days=30), AllocationDriver.TOKENS)
    report = replace_profitability(conn, DAY1, date(2025, 5, 1), is_month_to_date=False, run_id="r")
    rows = {r[0]: r[1:] for r in conn.execute(
        "SELECT organization_id, revenue, attributed_cost, margin, margin_pct, request_count, tokens_total "
        "FROM analytics_tenant_profitability WHERE period_start = %s", (DAY1,))}
    assert rows == {
        "org-a": (D("15.5000"), D("7.50"), D("8.0000"), D("51.61"), 15, 350),
        "org-b": (D("2.25"), D("1.50"), D("0.75"), D("33.33"), 30, 100),
        "org-c": (D("0"), D("0.50"), D("-0.50"), None, 0, 0),  # cost without usage: no margin %
        None: (D("0"), D("1.00"), D("-1.00"), None, 0, 0),  # the unattributed shared cost
    }
    assert (report.revenue, report.attributed_cost, report.margin, report.margin_pct) == (
        D("17.75"), D("10.50"), D("7.25"), D("40.85"))
    assert [t.organization_id for t in report.unprofitable] == ["org-c"]
    def top_tenants(by: str) -> list[str]:
        return markdown_table(*top_tenants_table(report, by=by)).value.splitlines()

    by_revenue = top_tenants("revenue")
    assert by_revenue[1] == "|---:|---|" + "---:|" * 8 + "---|" + "---:|" * 2  # numbers right-aligned
    # Rows loaded without a category are all "other".
    assert by_revenue[2].startswith("| 1 | org-a | 15.50 | 7.50 | 0.00 | 0.00 | 0.00 | 0.00 | 7.50 | 8.00 | 51.61% | "
                                    "15 | 350 |")
    assert by_revenue[-1] == ("| | **total** | **17.75** | **10.50** | **0.00** | **0.00** | **0.00** | **0.00** | "
                              "**10.50** | **7.25** | **40.85%** | | |")
    assert top_tenants("requests")[2].startswith("| 1 | org-b |")

    # Month to date (through day 2) replaces the month's rows; budgets read the same attribution.
    mtd = replace_profitability(conn, DAY1, DAY3, is_month_to_date=True)
    assert (mtd.attributed_cost, mtd.is_month_to_date) == (D("9.50"), True)
    assert conn.execute("SELECT count(*), bool_and(is_month_to_date) FROM analytics_tenant_profitability "
                        "WHERE period_start = %s", (DAY1,)).fetchone() == (3, True)
    costs = month_to_date_costs(conn, DAY2)
    assert (costs.tenant_costs, costs.currency, costs.days_with_costs) == (
        {"org-a": D("7.50"), "org-b": D("1.50"), "org-c": D("0.50")}, "USD", 2)


def test_only_production_reaches_tenants_and_every_category_is_kept(conn):
    production = {"environment": Environment.PRODUCTION}
    load(conn, [
        InfraCost(DAY1, "org-a", "Amazon EC2", D("3.00"), "USD", **production, service_tag="worker",
                  category=CostCategory.COMPUTE),
        InfraCost(DAY1, "org-a", "Amazon RDS", D("1.00"), "USD", **production, service_tag="database",
                  category=CostCategory.STORAGE),
        InfraCost(DAY1, None, "Amazon Virtual Private Cloud", D("2.00"), "USD", **production, service_tag="api",
                  category=CostCategory.DATA_TRANSFER),
        # org-a's staging sandbox and an untagged instance: loaded, never attributed
        InfraCost(DAY1, "org-a", "Amazon EC2", D("5.00"), "USD", environment=Environment.STAGING,
                  service_tag="worker", category=CostCategory.COMPUTE),
        InfraCost(DAY1, None, "Amazon EC2", D("0.70"), "USD", environment=Environment.UNTAGGED),
    ], [DAY1])
    insert_daily_rollup(conn, DAY1, "org-a", requests=10, tokens=300, revenue="10")
    insert_daily_rollup(conn, DAY1, "org-b", requests=30, tokens=100, revenue="2")
    conn.commit()
    summary = replace_cost_attribution(conn, APRIL, APRIL + timedelta(days=1), AllocationDriver.TOKENS)
    # The shared 2.00 of data transfer: 3/4 to org-a, 1/4 to org-b; the 5.70 outside production to nobody.
    assert attribution(conn, DAY1) == {"org-a": (D("5.50"), "attributed"),
                                       "org-b": (D("0.50"), "usage_without_direct_cost")}
    assert summary.not_attributed == {"staging": (D("5.00"), D("5.00"), 1), "untagged": (D("0.70"), D("0"), 0)}
    assert {k: v for k, v in summary.category_totals.items() if v} == {
        "compute": D("3.00"), "data_transfer": D("2.00"), "storage": D("1.00")}
    assert all(day.difference == 0 for day in reconcile_with_infra_costs(conn, APRIL, APRIL + timedelta(days=1)))
    categories = conn.execute(
        "SELECT organization_id, compute_cost, api_cost, data_transfer_cost, storage_cost, other_cost "
        "FROM analytics_tenant_cost_attribution ORDER BY organization_id").fetchall()
    assert categories == [("org-a", D("3.00"), 0, D("1.50"), D("1.00"), 0), ("org-b", 0, 0, D("0.50"), 0, 0)]

    report = replace_profitability(conn, DAY1, DAY2, is_month_to_date=True)
    by_tenant = {t.organization_id: t.category_costs for t in report.tenants}
    assert by_tenant["org-a"] == {"compute": D("3.00"), "api": D("0.00"), "data_transfer": D("1.50"),
                                  "storage": D("1.00"), "other": D("0.00")}
    assert conn.execute("SELECT compute_cost + api_cost + data_transfer_cost + storage_cost + other_cost, "
                        "attributed_cost FROM analytics_tenant_profitability WHERE organization_id = 'org-b'"
                        ).fetchone() == (D("0.50"), D("0.50"))


def test_category_cents_add_up_to_the_attributed_cents():
    exact = {"compute": D("1.005"), "api": D("1.005"), "data_transfer": D("1.005"), "storage": D("0"), "other": D("0")}
    # equal remainders: the cent goes by category name (api before compute)
    assert split_cents(D("3.01"), exact) == {"compute": D("1.00"), "api": D("1.01"), "data_transfer": D("1.00"),
                                             "storage": D("0.00"), "other": D("0.00")}
    credited = split_cents(D("0.50"), {"compute": D("1.00"), "storage": D("-0.50")})
    assert credited == {"compute": D("1.00"), "api": D("0.00"), "data_transfer": D("0.00"), "storage": D("-0.50"),
                        "other": D("0.00")}
    assert sum(split_cents(D("0.07"), {"compute": D("0.031"), "other": D("0.0444")}).values()) == D("0.07")


def test_views_break_costs_down_per_organization_and_day(conn):
    setup_month(conn)
    replace_cost_attribution(conn, APRIL, APRIL + timedelta(days=30), AllocationDriver.TOKENS)
    rows = conn.execute("SELECT usage_date, organization_id, revenue, attributed_cost, margin, margin_pct, status "
                        "FROM analytics_view_daily_costs ORDER BY usage_date, organization_id NULLS LAST").fetchall()
    assert rows[0] == (DAY1, "org-a", D("10.0000"), D("4.50"), D("5.5000"), D("55.00"), "attributed")
    assert rows[-1] == (DAY3, None, D("0"), D("1.00"), D("-1.00"), None, "unattributed")
    usage = conn.execute("SELECT request_count, tokens_total, revenue FROM analytics_view_daily_usage "
                         "WHERE usage_date = %s AND organization_id = 'org-b'", (DAY1,)).fetchone()
    assert usage == (30, 100, D("2.25"))
    services = conn.execute("SELECT service, tagged_cost, shared_cost FROM analytics_view_infra_costs_by_service "
                            "WHERE usage_date = %s ORDER BY service", (DAY1,)).fetchall()
    assert services == [("EC2", D("4.00"), D("0")), ("S3", D("0.50"), D("0")), ("VPC", D("0"), D("2.00"))]
