"""The cost assets end to end: dg.materialize against PostgreSQL, moto's S3 and Cost Explorer over HTTP."""

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import dagster as dg

from analytics_pipeline.costs.focus import BILLING_PERIOD_PREFIX
from analytics_pipeline.defs.costs import defs as cost_defs
from analytics_pipeline.defs.costs.assets import (
    daily_infra_costs,
    tenant_cost_attribution,
    tenant_profitability,
    tenant_profitability_month_to_date,
)
from analytics_pipeline.defs.costs.checks import (
    ATTRIBUTION_RECONCILES,
    TENANT_BUDGETS,
    attributed_cost_equals_infra_cost,
    tenant_budgets,
)
from analytics_pipeline.defs.costs.schedules import daily_cost_refresh_schedule, month_to_date_profitability_schedule
from analytics_pipeline.defs.costs.sensors import focus_export_sensor
from analytics_pipeline.defs.resources import BudgetSettings
from analytics_pipeline.defs.shared import RANGE_END_TAG, RANGE_START_TAG
from analytics_pipeline.generator.focus_costs import decommissioned_tenant_id, generate_focus_costs
from analytics_pipeline.generator.usage_logs import OrgTotals
from analytics_pipeline.storage.object_store import S3ObjectStore
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.costs.conftest import ce_day, ce_page, ce_slices, insert_daily_rollup
from analytics_pipeline_tests.resources import frozen_clock, pipeline_resources

D = Decimal
MAY = date(2025, 5, 1)
TENANTS = {"org-big": 100, "org-mid": 10, "org-small": 1}  # daily requests x 1,000 tokens each


def resources(warehouse_url, s3_endpoint, s3_bucket):
    return pipeline_resources(warehouse_url, f"s3://{s3_bucket}", s3_endpoint=s3_endpoint,
                              focus_costs_url=f"s3://{s3_bucket}/focus/data")


def range_tags(first: date, last: date) -> dict:
    return {RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()}


def run_totals(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult, asset: str) -> str:
    """The line a range run logs with ``asset``'s totals (they are not stored on each day)."""
    return next(entry.user_message for entry in instance.all_logs(result.run_id)
                if entry.step_key == asset and entry.user_message.startswith("run totals over"))


def check_results(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_a_month_from_focus_exports_to_profitability_and_budgets(
        warehouse_url, s3_endpoint, s3_client, s3_bucket, dagster_instance, tmp_path):
    with connect(warehouse_url) as conn:
        for day in range(31):
            for tenant, requests in TENANTS.items():
                insert_daily_rollup(conn, MAY + timedelta(days=day), tenant, requests=requests,
                                    tokens=requests * 1_000_000, revenue=str(D("1.5") * requests))
        conn.commit()
    usage = {t: OrgTotals(request_count=r * 31, tokens_total=r * 31_000_000, error_count=0)
             for t, r in TENANTS.items()}
    store = S3ObjectStore(s3_client, s3_bucket, "focus/data")
    focus = generate_focus_costs(store.write, start=MAY, days=31, usage_by_org=usage, seed=5)
    res = resources(warehouse_url, s3_endpoint, s3_bucket)

    # The whole month in one run (single-run backfill), without a budgets file: the budget check is skipped.
    month = dg.materialize([daily_infra_costs, tenant_cost_attribution, attributed_cost_equals_infra_cost,
                            tenant_budgets], instance=dagster_instance, resources=res,
                           tags=range_tags(MAY, date(2025, 5, 31)))
    # Each day carries its own figures; the range's totals are logged once, in the run.
    days = month.asset_materializations_for_node("daily_infra_costs")
    loaded = days[0].metadata
    assert (len(days), loaded["source"].value) == (31, "focus")
    assert len({m.metadata["cost_total"].value for m in days}) > 1 and "cost_total_exact" not in loaded
    assert abs(sum(D(str(m.metadata["cost_total"].value)) for m in days) - focus.total_cost) <= D("0.005") * 31
    totals = run_totals(dagster_instance, month, "daily_infra_costs")
    assert "days_loaded=31," in totals and "multi_day_charges=1," in totals  # the support fee over the month
    attributed_days = month.asset_materializations_for_node("tenant_cost_attribution")
    attributed = attributed_days[0].metadata
    assert "days=31, tenants=4," in run_totals(dagster_instance, month, "tenant_cost_attribution")
    assert "tenants_with_cost_without_usage=1" in run_totals(dagster_instance, month, "tenant_cost_attribution")
    assert decommissioned_tenant_id(5) in attributed["cost_without_usage"].value
    # Staging (the tenants' sandboxes included) and untagged spend is loaded and never attributed.
    assert (f"staging_cost={float(round(focus.staging_cost, 2))}, "
            f"untagged_environment_cost={float(round(focus.untagged_cost, 2))}") in totals
    production = focus.total_cost - focus.staging_cost - focus.untagged_cost  # each day rounded to the cent:
    attributed_total = sum(D(str(m.metadata["attributed_total"].value)) for m in attributed_days)
    assert abs(attributed_total - production) <= D("0.005") * 31
    checks = check_results(month)
    reconciled = [e for e in month.get_asset_check_evaluations() if e.check_name == ATTRIBUTION_RECONCILES]
    assert len({e.partition for e in reconciled}) == 31  # each day of the range judged on its own
    assert all(e.passed and e.metadata["days_checked"].value == 1 for e in reconciled)
    assert TENANT_BUDGETS not in checks  # skipped: no budgets file
    with connect(warehouse_url) as conn:
        per_day = conn.execute(
            "SELECT a.usage_date, sum(a.attributed_cost), (SELECT round(sum(amount), 2) FROM analytics_infra_costs i "
            "WHERE i.usage_date = a.usage_date AND i.environment = 'production') "
            "FROM analytics_tenant_cost_attribution a GROUP BY 1").fetchall()
        assert len(per_day) == 31 and all(attributed_sum == infra for _, attributed_sum, infra in per_day)
        by_day = {m.partition: D(str(m.metadata["attributed_total"].value)) for m in attributed_days}
        assert by_day == {day.isoformat(): infra for day, _, infra in per_day}
        spent = dict(conn.execute("SELECT organization_id, sum(attributed_cost) FROM analytics_tenant_cost_attribution "
                                  "GROUP BY 1").fetchall())

    # Budgets: org-big over (105 %), org-mid at 85 %, org-small quiet; the check runs with the last day.
    budgets = tmp_path / "budgets.json"
    budgets.write_text(json.dumps({"tenants": {
        "org-big": str((spent["org-big"] / D("1.05")).quantize(D("0.01"))),
        "org-mid": str((spent["org-mid"] / D("0.85")).quantize(D("0.01"))),
        "org-small": str(spent["org-small"] * 2)}}))
    res = {**res, "budget_settings": BudgetSettings(budgets_file=str(budgets))}
    last_day = dg.materialize([tenant_cost_attribution, attributed_cost_equals_infra_cost, tenant_budgets],
                              instance=dagster_instance, resources=res, partition_key="2025-05-31")
    budget = check_results(last_day)[TENANT_BUDGETS]
    assert (budget.passed, budget.severity) == (False, dg.AssetCheckSeverity.ERROR)
    assert budget.description.startswith("1 failed, 1 warning, 2025-05 through 31 (31/31 days): org-big: 105.")
    assert (budget.metadata["failed"].value, budget.metadata["warning"].value) == (["org-big"], ["org-mid"])

    # Month to date (through the 15th), then the complete month replaces it.
    as_of = {"ops": {"tenant_profitability_month_to_date": {"config": {"as_of": "2025-05-16"}}}}
    mtd = dg.materialize([tenant_profitability_month_to_date], instance=dagster_instance, resources=res,
                         run_config=as_of)
    assert mtd.asset_materializations_for_node("tenant_profitability_month_to_date")[0].metadata[
        "period_end"].value == "2025-05-16"
    profit = dg.materialize([tenant_profitability], instance=dagster_instance, resources=res,
                            partition_key="2025-05-01")
    metadata = profit.asset_materializations_for_node("tenant_profitability")[0].metadata
    assert D(metadata["revenue_exact"].value) == D("1.5") * 111 * 31
    assert D(metadata["attributed_cost_exact"].value) == sum(spent.values())
    assert metadata["top_tenants_by_revenue"].value.splitlines()[2].startswith("| 1 | org-big |")
    assert "| 1 | org-big |" in metadata["top_tenants_by_usage"].value
    with connect(warehouse_url) as conn:
        assert conn.execute("SELECT count(*), bool_or(is_month_to_date) FROM analytics_tenant_profitability "
                            "WHERE period_start = %s", (MAY,)).fetchone() == (4, False)


def test_cost_explorer_source_with_a_revised_day(warehouse_url, s3_endpoint, s3_bucket, dagster_instance,
                                                 queue_cost_explorer_results):
    with connect(warehouse_url) as conn:
        insert_daily_rollup(conn, date(2025, 6, 10), "org-a", requests=3, tokens=300, revenue="9")
        insert_daily_rollup(conn, date(2025, 6, 10), "org-b", requests=1, tokens=100, revenue="1")
        conn.commit()
    queue_cost_explorer_results(*ce_slices({
        ("production", "worker"): [
            ce_page(ce_day("2025-06-10", [("org-a", "Amazon EC2", "4.004"), ("", "Amazon VPC", "2.00")]),
                    next_token="2"),
            ce_page(ce_day("2025-06-11", [("org-b", "Amazon EC2", "1.10")], estimated=True))],
        # org-a's staging sandbox: loaded, reported, never attributed to org-a
        ("staging", "worker"): [ce_page(ce_day("2025-06-10", [("org-a", "Amazon EC2", "9.99")]))],
    }))
    queue_cost_explorer_results(*ce_slices({("production", "worker"): [
        ce_page(ce_day("2025-06-11", [("org-b", "Amazon EC2", "1.25")]),  # the revision of the 11th
                ce_day("2025-06-12", [("", "Amazon VPC", "0.50")], estimated=True))]}))
    config = {"ops": {"daily_infra_costs": {"config": {"source": "cost_explorer"}}}}
    assets = [daily_infra_costs, tenant_cost_attribution, attributed_cost_equals_infra_cost, tenant_budgets]
    res = resources(warehouse_url, s3_endpoint, s3_bucket)
    first = dg.materialize(assets, instance=dagster_instance, resources=res,
                           tags=range_tags(date(2025, 6, 10), date(2025, 6, 11)), run_config=config)
    days = {m.partition: m.metadata for m in first.asset_materializations_for_node("daily_infra_costs")}
    metadata = days["2025-06-11"]
    assert metadata["source"].value == "cost_explorer" and "pages=13," in run_totals(
        dagster_instance, first, "daily_infra_costs")
    # Each day its own cost: the 10th 4.004 + 2.00 in production and 9.99 in staging, the 11th 1.10.
    assert {day: (m["cost_total"].value, m["production_cost"].value) for day, m in days.items()} == {
        "2025-06-10": (15.99, 6.0), "2025-06-11": (1.1, 1.1)}
    assert metadata["estimated_days"].value == ["2025-06-11"]
    checks = check_results(first)
    assert checks[ATTRIBUTION_RECONCILES].passed and TENANT_BUDGETS not in checks
    attributed = {m.partition: m.metadata for m in first.asset_materializations_for_node("tenant_cost_attribution")}
    assert sum(D(str(m["attributed_total"].value)) for m in attributed.values()) == D("7.10")
    assert "not_attributed_staging_cost=9.99," in run_totals(dagster_instance, first, "tenant_cost_attribution")

    second = dg.materialize(assets, instance=dagster_instance, resources=res,
                            tags=range_tags(date(2025, 6, 11), date(2025, 6, 12)), run_config=config)
    assert check_results(second)[ATTRIBUTION_RECONCILES].passed
    with connect(warehouse_url) as conn:
        rows = conn.execute("SELECT usage_date, organization_id, amount, estimated FROM analytics_infra_costs "
                            "WHERE environment = 'production' "
                            "ORDER BY usage_date, organization_id NULLS LAST").fetchall()
        attribution = conn.execute("SELECT usage_date, organization_id, attributed_cost, status "
                                   "FROM analytics_tenant_cost_attribution ORDER BY 1, 2 NULLS LAST").fetchall()
    assert rows == [(date(2025, 6, 10), "org-a", D("4.004"), False), (date(2025, 6, 10), None, D("2.00"), False),
                    (date(2025, 6, 11), "org-b", D("1.25"), False), (date(2025, 6, 12), None, D("0.50"), True)]
    assert attribution == [
        (date(2025, 6, 10), "org-a", D("5.50"), "attributed"),  # 4.004 + 1.50, none of the 9.99 of staging
        (date(2025, 6, 10), "org-b", D("0.50"), "usage_without_direct_cost"),
        (date(2025, 6, 11), "org-b", D("1.25"), "cost_without_usage"),
        (date(2025, 6, 12), None, D("0.50"), "unattributed"),  # shared cost, nobody's usage
    ]


def test_a_missing_export_fails_once_with_a_clear_message(warehouse_url, s3_endpoint, s3_bucket, dagster_instance):
    result = dg.materialize([daily_infra_costs], instance=dagster_instance, partition_key="2025-08-01",
                            resources=resources(warehouse_url, s3_endpoint, s3_bucket), raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "no FOCUS export objects" in failure.step_failure_data.user_failure_data.description
    assert "BILLING_PERIOD=2025-08/" in failure.step_failure_data.user_failure_data.description
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]  # data errors never retry


def test_the_daily_refresh_reloads_the_last_three_days_in_one_run():
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2025, 7, 4, 6, tzinfo=UTC))
    request = daily_cost_refresh_schedule(context)
    assert request.tags == range_tags(date(2025, 7, 1), date(2025, 7, 3))
    mtd = month_to_date_profitability_schedule(
        dg.build_schedule_context(scheduled_execution_time=datetime(2025, 7, 4, 7, tzinfo=UTC)))
    assert mtd.run_config["ops"]["tenant_profitability_month_to_date"]["config"]["as_of"] == "2025-07-04"


def test_focus_sensor_runs_once_per_export_version(warehouse_url, s3_endpoint, s3_client, s3_bucket):
    now = datetime(2026, 2, 17, 9, tzinfo=UTC)
    today = now.date()
    store = S3ObjectStore(s3_client, s3_bucket, "focus/data")
    key = BILLING_PERIOD_PREFIX.format(month=today.replace(day=1)) + "part-00001.csv.gz"
    res = {**resources(warehouse_url, s3_endpoint, s3_bucket), "clock": frozen_clock(now)}
    with dg.build_sensor_context(resources=res) as context:
        assert isinstance(focus_export_sensor(context), dg.SkipReason)
        store.write(key, b"v1")
        first = focus_export_sensor(context)
        assert [r.tags for r in first] == [range_tags(today.replace(day=1), today)]
        assert first[0].run_config["ops"]["daily_infra_costs"]["config"]["source"] == "focus"
        assert focus_export_sensor(context)[0].run_key == first[0].run_key  # unchanged export: same key
        store.write(key, b"v2")
        assert focus_export_sensor(context)[0].run_key != first[0].run_key


def test_the_cost_definitions_load_with_the_project():
    from analytics_pipeline.definitions import defs

    dg.Definitions.validate_loadable(defs)
    keys = defs.resolve_all_asset_keys()
    assert all(next(iter(asset.specs)).key in keys for asset in cost_defs.assets)
    graph = defs.resolve_asset_graph()
    for asset in cost_defs.assets:
        spec = next(iter(asset.specs))
        assert spec.description and spec.kinds, spec.key
        if asset.partitions_def is not None:
            assert graph.get(spec.key).backfill_policy == dg.BackfillPolicy.single_run()
