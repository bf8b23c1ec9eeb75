"""The synthetic FOCUS cost exports: they follow the usage and read back exactly."""

from datetime import date
from decimal import Decimal

from analytics_pipeline.costs.focus import read_focus_costs
from analytics_pipeline.generator.focus_costs import decommissioned_tenant_id, generate_focus_costs
from analytics_pipeline.generator.usage_logs import OrgTotals
from analytics_pipeline.storage.object_store import LocalDirectoryStore

D = Decimal


USAGE = {"org-big": OrgTotals(request_count=300_000, tokens_total=900_000_000, error_count=0),
         "org-small": OrgTotals(request_count=3_000, tokens_total=2_000_000, error_count=0)}


def test_synthetic_focus_costs_follow_usage_and_read_back_exactly(tmp_path):
    store = LocalDirectoryStore(tmp_path)
    written = {}

    def write(key, data):
        written[key] = data
        store.write(key, data)

    summary = generate_focus_costs(write, start=date(2026, 3, 30), days=4, usage_by_org=USAGE, seed=3)
    assert summary.keys == ["BILLING_PERIOD=2026-03/synthetic-focus-00001.csv.gz",
                            "BILLING_PERIOD=2026-04/synthetic-focus-00001.csv.gz"]
    rows = read_focus_costs(store, date(2026, 3, 30), date(2026, 4, 3)).rows
    assert sum(r.amount for r in rows) == summary.total_cost
    assert sum(r.amount for r in rows if r.organization_id is None) == summary.shared_cost
    by_tenant = {}
    for r in rows:
        by_tenant[r.organization_id] = by_tenant.get(r.organization_id, D(0)) + r.amount
    assert by_tenant["org-big"] > 50 * by_tenant["org-small"]  # roughly proportional to tokens (450x)
    assert decommissioned_tenant_id(3) in by_tenant  # cost without usage
    assert {r.usage_date for r in rows} == {date(2026, 3, 30), date(2026, 3, 31), date(2026, 4, 1), date(2026, 4, 2)}
    # Every line carries the tags: production in all four categories per tenant; staging (a shared
    # cluster and the largest tenants' sandboxes, tagged with their id) and untagged spend apart.
    by_environment = {}
    for r in rows:
        by_environment[r.environment.value] = by_environment.get(r.environment.value, D(0)) + r.amount
    assert by_environment["staging"] == summary.staging_cost > 0
    assert by_environment["untagged"] == summary.untagged_cost > 0
    big = {r.category.value for r in rows if r.organization_id == "org-big" and r.attributable}
    assert big == {"compute", "api", "data_transfer", "storage"}
    sandboxes = {r.organization_id for r in rows if r.environment.value == "staging" and r.organization_id}
    assert sandboxes == {"org-big", "org-small"}
    again = {}
    generate_focus_costs(again.__setitem__, start=date(2026, 3, 30), days=4, usage_by_org=USAGE, seed=3)
    assert again == written  # deterministic, byte for byte
