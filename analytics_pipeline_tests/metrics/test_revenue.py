"""Revenue, MRR with plans (commitments, discounts), and top customers with their rank changes."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from analytics_pipeline.metrics.revenue import (
    Plan,
    Plans,
    PlansFileError,
    load_plans,
    monthly_revenue,
    parse_plans,
    replace_monthly_revenue,
    replace_top_customers,
)
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.costs.conftest import insert_daily_rollup

D = Decimal
EXAMPLE = Path(__file__).resolve().parents[2] / "analytics_pipeline" / "metrics" / "plans.example.json"


def test_commitments_are_a_minimum_and_discounts_apply_to_usage():
    enterprise = Plan("enterprise", D("1000"), D("10"))
    over = monthly_revenue("a", D("1500"), 10, 100, enterprise)  # 1,350 after the discount
    assert (over.discounted_usage, over.billed_revenue, over.overage) == (D("1350.0"), D("1350.0"), D("350.0"))
    under = monthly_revenue("a", D("500"), 10, 100, enterprise)  # 450 after the discount: the commitment holds
    assert (under.billed_revenue, under.overage) == (D("1000"), D("0"))
    plain = monthly_revenue("b", D("12.34"), 1, 1, Plan())
    assert (plain.billed_revenue, plain.overage) == (D("12.34"), D("12.34"))


def test_plans_files(tmp_path):
    example = load_plans(EXAMPLE)
    assert example.of("b7ea6a14-2986-58e4-8964-a31ccad53609") == Plan("enterprise", D("2000.00"), D("15"))
    assert example.of("anyone else") == Plan("pay-as-you-go")
    toml = tmp_path / "plans.toml"
    toml.write_text('[organizations."org-a"]\nplan = "growth"\nmonthly_commitment = 250.5\ndiscount_percent = 2.5\n')
    assert load_plans(toml).of("org-a") == Plan("growth", D("250.5"), D("2.5"))
    for text, message in [('{"organizations": {"a": {"discount_percent": 120}}}', "between 0 and 100"),
                          ('{"organizations": {"a": {"monthly_commitment": "-1"}}}', "0 or more"),
                          ('{"organizations": {"a": {"commitment": "1"}}}', "unknown key"),
                          ('{"currency": "EUR"}', "priced in USD"), ("[", "not valid JSON")]:
        with pytest.raises(PlansFileError, match=message):
            parse_plans(text, source="p.json")
    with pytest.raises(PlansFileError, match="cannot read"):
        load_plans(tmp_path / "absent.json")


@pytest.fixture
def conn(warehouse_url):
    with connect(warehouse_url) as conn:
        yield conn


def test_mrr_and_rankings_with_rank_changes(conn):
    for day, org, requests, tokens, revenue in [
            (date(2026, 2, 3), "org-a", 10, 1000, "100"), (date(2026, 2, 3), "org-b", 10, 5000, "300"),
            (date(2026, 2, 4), "org-c", 10, 2000, "50"),
            (date(2026, 3, 3), "org-a", 10, 9000, "500"), (date(2026, 3, 9), "org-b", 10, 1000, "200"),
            (date(2026, 3, 9), "org-d", 10, 3000, "250")]:
        insert_daily_rollup(conn, day, org, requests=requests, tokens=tokens, revenue=revenue)
    conn.commit()
    plans = Plans(organizations={"org-b": Plan("growth", D("400"), D("10")), "org-e": Plan("startup", D("99"))})
    february = replace_monthly_revenue(conn, date(2026, 2, 1), plans)
    assert [(r.organization_id, r.billed_revenue) for r in february.organizations] == [
        ("org-b", D("400")), ("org-a", D("100")), ("org-e", D("99")), ("org-c", D("50"))]  # org-e: no usage
    march = replace_monthly_revenue(conn, date(2026, 3, 1), plans)
    assert (march.usage_revenue, march.committed, march.mrr) == (D("950"), D("499"), D("500") + D("400") + D("250")
                                                                 + D("99"))
    replace_top_customers(conn, date(2026, 2, 1))
    top = replace_top_customers(conn, date(2026, 3, 1))
    assert [(c.organization_id, c.rank, c.previous_rank, c.rank_change) for c in top["revenue"]] == [
        ("org-a", 1, 2, 1), ("org-b", 2, 1, -1), ("org-d", 3, None, None), ("org-e", 4, 3, -1)]
    assert [(c.organization_id, c.value) for c in top["usage"]] == [("org-a", D("9000")), ("org-d", D("3000")),
                                                                    ("org-b", D("1000"))]
    assert replace_top_customers(conn, date(2026, 3, 1)) == top  # a rerun replaces, never adds
    assert conn.execute("SELECT count(*) FROM analytics_top_customers WHERE month = '2026-03-01'").fetchone() == (7,)
    with pytest.raises(Exception, match="analytics_monthly_revenue_check"):  # the MRR rule is a constraint too
        conn.execute("UPDATE analytics_monthly_revenue SET billed_revenue = 0 WHERE organization_id = 'org-a'")
