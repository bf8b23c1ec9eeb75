"""The whole path on S3 (moto's server) and PostgreSQL: logs -> events -> rollups -> CSV exports."""

import csv
import hashlib
import io
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import dagster as dg
import pytest

from analytics_pipeline.defs.runner import materialize_window, results_for
from analytics_pipeline.exports.usage_csv import EXPORT_COLUMNS
from analytics_pipeline.generator.focus_costs import generate_focus_costs
from analytics_pipeline.generator.usage_logs import generate_usage_logs
from analytics_pipeline.storage.object_store import S3ObjectStore
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.resources import pipeline_resources

MONTH = datetime(2026, 10, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)  # the pipeline's clock: the month is complete
USAGE_ONLY = dg.AssetSelection.all() - dg.AssetSelection.groups("costs", "build_telemetry")
RAW_EVENTS = dg.AssetKey("raw_usage_events")


@pytest.fixture
def s3_resources(warehouse_url, s3_endpoint, s3_bucket):
    return pipeline_resources(warehouse_url, f"s3://{s3_bucket}", s3_endpoint=s3_endpoint, now=NOW)


def test_days_on_s3_exports_equal_the_generated_events(s3_resources, s3_client, s3_bucket, warehouse_url,
                                                       dagster_instance):
    logs = S3ObjectStore(s3_client, s3_bucket, "logs")
    first_day = MONTH + timedelta(days=3)
    generated = generate_usage_logs(lambda key, data: logs.write(key, data), start=first_day.date(),
                                    days=2, orgs=5, models=3, events_per_hour=40, seed=11,
                                    duplicate_rate=0.02, malformed_rate=0.01)
    focus = S3ObjectStore(s3_client, s3_bucket, "focus")
    generate_focus_costs(lambda key, data: focus.write(key, data), start=first_day.date(), days=2,
                         usage_by_org=generated.totals_by_org, seed=11)

    results = materialize_window(first_day, first_day + timedelta(days=2), instance=dagster_instance,
                                 resources=s3_resources)
    assert all(result.success for _, result in results)
    hourly = results_for(results, RAW_EVENTS)
    # A single-run range: each delivery hour's materialization carries that hour's own figures.
    ingested = [e.materialization for e in hourly.get_asset_materialization_events()
                if e.asset_key == RAW_EVENTS]
    assert len(ingested) == 48  # one per delivery hour of the two days
    assert not any(name.startswith("run_") for m in ingested for name in m.metadata)
    names = ("accepted", "duplicates", "quarantined", "lines_read")
    totals = {name: sum(m.metadata[name].value for m in ingested) for name in names}
    assert totals == {"accepted": generated.valid_events, "duplicates": generated.duplicate_lines,
                      "quarantined": generated.malformed_lines, "lines_read": generated.lines_written}
    assert len({m.metadata["lines_read"].value for m in ingested}) > 1

    # Every check of the range judged each hour on its own: one result per hour.
    by_check = defaultdict(dict)
    for evaluation in hourly.get_asset_check_evaluations():
        by_check[evaluation.check_name][evaluation.partition] = evaluation
    assert all(len(by_check[name]) == 48 for name in ("ingest_ledger_adds_up", "quarantine_rate_within_bounds"))
    assert all(e.passed for e in by_check["ingest_ledger_adds_up"].values())
    # 19 of 1,914 lines (0.99%) are malformed over the two days: hours above the 0.5% warning warn.
    assert (generated.malformed_lines, generated.lines_written) == (19, 1914)
    rates = by_check["quarantine_rate_within_bounds"]
    for hour, metadata in ((m.partition, m.metadata) for m in ingested):
        rate = rates[hour]
        expected = metadata["quarantined"].value / metadata["lines_read"].value if metadata["lines_read"].value else 0
        assert rate.metadata["quarantine_rate"].value == pytest.approx(expected)
        assert rate.passed == (expected <= 0.005)

    exports = S3ObjectStore(s3_client, s3_bucket, "exports")
    csv_keys = [o.key for o in exports.list(f"monthly/{MONTH:%Y-%m}/") if o.key.endswith(".csv")]
    assert len(csv_keys) == generated.organizations == 5

    per_org = defaultdict(lambda: [0, 0, 0])
    for key in csv_keys:
        data = exports.read(key)
        manifest = json.loads(exports.read(key.replace(".csv", ".manifest.json")))
        assert manifest["checksum"] == "sha256:" + hashlib.sha256(data).hexdigest()
        rows = list(csv.DictReader(io.StringIO(data.decode())))
        assert tuple(rows[0].keys()) == EXPORT_COLUMNS
        assert manifest["row_count"] == len(rows)
        assert manifest["sources"], "the manifest names the rollup materializations it was made from"
        for row in rows:
            assert row["bucket_start"].endswith("T00:00:00Z")
            assert len(row["cost_total"].split(".")[1]) == 4
            org = per_org[row["organization_id"]]
            org[0] += int(row["request_count"])
            org[1] += int(row["tokens_total"])
            org[2] += int(row["error_count"])

    expected = {org: [t.request_count, t.tokens_total, t.error_count] for org, t in generated.totals_by_org.items()}
    assert dict(per_org) == expected

    with connect(warehouse_url) as conn:
        cost_daily = conn.execute("SELECT sum(cost_total) FROM analytics_daily_rollups").fetchone()[0]
        cost_hourly = conn.execute("SELECT sum(cost_total) FROM analytics_hourly_rollups").fetchone()[0]
    assert cost_daily == cost_hourly > 0
    assert isinstance(cost_daily, Decimal)

    # Infrastructure cost attributed to the tenants to the cent, profitability per month.
    attribution = {e.check_name: e.passed for e in results_for(results, dg.AssetKey("tenant_cost_attribution"))
                   .get_asset_check_evaluations()}
    assert attribution["attributed_cost_equals_infra_cost"] is True
    with connect(warehouse_url) as conn:
        infra, attributed = conn.execute(
            "SELECT (SELECT sum(amount) FROM analytics_infra_costs WHERE environment = 'production'), "
            "(SELECT sum(attributed_cost) FROM analytics_tenant_cost_attribution)").fetchone()
        revenue = conn.execute("SELECT sum(revenue) FROM analytics_tenant_profitability").fetchone()[0]
    assert abs(round(infra, 2) - attributed) <= Decimal("0.01") and attributed > 0  # each day to the cent
    assert revenue == cost_daily

    # The metrics of the same days: checked against the rollups, every active organization scored.
    metrics = {e.check_name: e.passed for _, result in results for e in result.get_asset_check_evaluations()
               if e.asset_key.path[0] in {"daily_activity", "customer_health", "usage_forecasts"}}
    assert metrics == {"activity_matches_rollups": True, "dau_within_wau_within_mau": True,
                       "every_active_organization_has_a_health_score": True, "forecast_backtest_within_bound": True}
    with connect(warehouse_url) as conn:
        active, users = conn.execute("SELECT max(active_customers), max(dau) FROM analytics_customer_activity_daily "
                                     "WHERE day >= %s", (first_day.date(),)).fetchone()
        endpoint_requests = conn.execute("SELECT sum(request_count) FROM analytics_endpoint_hourly_metrics "
                                         "WHERE organization_id IS NULL").fetchone()[0]
        revenue_rows = conn.execute("SELECT count(*) FROM analytics_monthly_revenue").fetchone()[0]
    assert active == 5 and users > 5
    assert endpoint_requests == generated.valid_events
    assert revenue_rows == 5

    # The dashboards' views read what the assets wrote.
    with connect(warehouse_url) as conn:
        business = conn.execute("SELECT count(*), sum(mrr), count(revenue_rank), count(health_score), count(mau) "
                                "FROM analytics_view_business_dashboard WHERE month = %s", (MONTH.date(),)).fetchone()
        developer = conn.execute("SELECT sum(request_count), count(DISTINCT endpoint) FROM "
                                 "analytics_view_developer_dashboard WHERE scope = 'all organizations'").fetchone()
        quality = conn.execute("SELECT sum(accepted), sum(quarantined), sum(error_types_on_non_errors) "
                               "FROM analytics_view_data_quality_dashboard").fetchone()
        customer = conn.execute("SELECT sum(request_count), sum(cost_total), min(availability_pct), "
                                "sum(agent_invocations) FROM analytics_view_customer_dashboard").fetchone()
    assert business == (5, cost_daily, 5, 5, 5)
    assert developer[0] == generated.valid_events and developer[1] > 3
    assert quality == (generated.valid_events, generated.malformed_lines, 0)
    assert customer[0] == generated.valid_events and customer[1] == cost_daily
    assert 90 < customer[2] <= 100 and customer[3] > 0


def test_rerunning_gives_the_same_totals(s3_resources, s3_client, s3_bucket, warehouse_url, dagster_instance):
    """The same window twice (Dagster writes an event per hourly partition, so a whole month
    takes minutes; the demo runs the month): the second run finds every object in the ledger."""
    logs = S3ObjectStore(s3_client, s3_bucket, "logs")
    generate_usage_logs(lambda key, data: logs.write(key, data), start=MONTH.date(), days=1, orgs=3, models=2,
                        events_per_hour=30, seed=3, duplicate_rate=0.05)
    totals = []
    for _ in range(2):
        materialize_window(MONTH, MONTH + timedelta(days=1), instance=dagster_instance, resources=s3_resources,
                           selection=USAGE_ONLY)
        with connect(warehouse_url) as conn:
            totals.append(conn.execute(
                "SELECT (SELECT count(*) FROM analytics_events), sum(request_count), sum(cost_total) "
                "FROM analytics_daily_rollups").fetchone())
    assert totals[0] == totals[1]
    assert totals[0][0] == totals[0][1] > 0


def test_checks_pass_on_a_clean_run_and_fail_on_a_tampered_rollup(s3_resources, s3_client, s3_bucket, warehouse_url,
                                                                   dagster_instance):
    from analytics_pipeline.defs.ingestion.assets import raw_usage_events
    from analytics_pipeline.defs.ingestion.checks import INGEST_LEDGER_ADDS_UP, delivery_hour_checks
    from analytics_pipeline.defs.rollups.assets import daily_usage_rollups, hourly_usage_rollups
    from analytics_pipeline.defs.rollups.checks import (
        daily_rollups_equal_sum_of_hours,
        daily_rollups_match_raw_events,
        hourly_rollups_match_raw_events,
    )
    from analytics_pipeline.defs.rollups.sensors import usage_rollup_restatement_sensor

    logs = S3ObjectStore(s3_client, s3_bucket, "logs")
    day = MONTH + timedelta(days=5)
    generate_usage_logs(lambda key, data: logs.write(key, data), start=day.date(), days=1, orgs=3, models=2,
                        events_per_hour=20, seed=5)
    results = materialize_window(day, day + timedelta(days=1), instance=dagster_instance, resources=s3_resources,
                                 selection=USAGE_ONLY)
    evaluations = [e for _, result in results for e in result.get_asset_check_evaluations()]
    assert {e.check_name for e in evaluations} >= {"hourly_rollups_match_raw_events",
                                                   "daily_rollups_equal_sum_of_hours",
                                                   "daily_rollups_match_raw_events",
                                                   "exports_reconcile_with_rollups"}
    assert all(e.passed for e in evaluations)
    # The range ingest touched every hour of the day, and the same plan rolled them up: a tick of
    # the restatement sensor (which reads the 24 materializations) requests nothing.
    with dg.build_sensor_context(instance=dagster_instance, resources=s3_resources) as context:
        tick = usage_rollup_restatement_sensor(context)
    assert tick.run_requests == [] and tick.cursor

    hour = day + timedelta(hours=14)
    with connect(warehouse_url) as conn:
        conn.execute("UPDATE analytics_hourly_rollups SET request_count = request_count + 1 "
                     "WHERE bucket_start = %s", (hour,))
        conn.commit()

    with connect(warehouse_url) as conn:  # an event lost after loading
        conn.execute("DELETE FROM analytics_events WHERE ctid = (SELECT min(ctid) FROM analytics_events "
                     "WHERE event_time >= %s AND event_time < %s)", (hour, hour + timedelta(minutes=50)))
        conn.commit()

    def run_checks(assets, checks, partition_key, selected=None):
        # Only the checks run (the rollups stay tampered): a one-partition range.
        return dg.materialize([*assets, *checks], instance=dagster_instance, resources=s3_resources,
                              tags={"dagster/asset_partition_range_start": partition_key,
                                    "dagster/asset_partition_range_end": partition_key},
                              selection=dg.AssetSelection.checks(*(selected or checks)), raise_on_error=False)

    hourly = run_checks([hourly_usage_rollups], [hourly_rollups_match_raw_events], hour.strftime("%Y-%m-%d-%H:%M"))
    [evaluation] = hourly.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.metadata["mismatched_rows"].value >= 1
    daily = run_checks([daily_usage_rollups], [daily_rollups_equal_sum_of_hours, daily_rollups_match_raw_events],
                       day.strftime("%Y-%m-%d"))
    # the hours were tampered with (sum of hours) and an event is gone (raw events)
    assert {e.check_name: e.passed for e in daily.get_asset_check_evaluations()} == {
        "daily_rollups_equal_sum_of_hours": False, "daily_rollups_match_raw_events": False}
    ledger = run_checks([raw_usage_events], [delivery_hour_checks], hour.strftime("%Y-%m-%d-%H:%M"),
                        selected=[INGEST_LEDGER_ADDS_UP])
    [evaluation] = ledger.get_asset_check_evaluations()
    assert not evaluation.passed
    assert evaluation.metadata["stored_events"].value == evaluation.metadata["accepted"].value - 1
