"""The metrics assets and checks in Dagster: single-run ranges, metadata, checks that pass and fail."""

import dagster as dg

from analytics_pipeline.defs.metrics import defs as metrics_defs
from analytics_pipeline.defs.metrics.assets import customer_health, daily_activity, feature_adoption, usage_forecasts
from analytics_pipeline.defs.metrics.checks import (
    activity_matches_rollups,
    dau_within_wau_within_mau,
    every_active_organization_has_a_health_score,
    forecast_backtest_within_bound,
)
from analytics_pipeline.defs.metrics.resources import MetricsSettings
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.metrics.events import at
from analytics_pipeline_tests.resources import pipeline_resources

ASSETS = [daily_activity, feature_adoption, customer_health, usage_forecasts]
CHECKS = [activity_matches_rollups, dau_within_wau_within_mau, every_active_organization_has_a_health_score,
          forecast_backtest_within_bound]
RANGE = {"dagster/asset_partition_range_start": "2026-03-01", "dagster/asset_partition_range_end": "2026-03-28"}


def run(resources, instance, selection=None):
    return dg.materialize([*ASSETS, *CHECKS], instance=instance, resources=resources, tags=RANGE,
                          selection=selection, raise_on_error=False)


def last_day(result: dg.ExecuteInProcessResult, node: str) -> dict:
    """The metadata of the last day's materialization of ``node`` in a range run."""
    return max(result.asset_materializations_for_node(node), key=lambda m: m.partition).metadata


def test_a_month_in_one_run_with_its_checks_then_a_tampered_activity_fails(loaded, tmp_path, dagster_instance):
    resources = pipeline_resources(loaded, str(tmp_path), now=at("2026-03-29 06:00"))
    result = run(resources, dagster_instance)
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    # Each of the 4 checks judged each of the 28 days on its own.
    assert all(e.passed for e in evaluations) and len({(e.check_name, e.partition) for e in evaluations}) == 4 * 28
    judged = [e.metadata["days_judged"].value for e in evaluations if e.check_name == "forecast_backtest_within_bound"]
    assert sum(judged) > 10
    # Each day carries its own figures (the last day's here); the range's totals are logged once.
    activity = last_day(result, "daily_activity")
    assert (activity["active_customers"].value, activity["churned_customers"].value, activity["mau"].value) == (2, 0, 4)
    assert "| org-a | 3 | 3 | 3 |" in activity["top_organizations_by_active_users"].value
    assert "organization_days" not in activity and "window_start" in activity
    health = last_day(result, "customer_health")
    assert health["dagster/row_count"].value == 2 and health["lowest_score"].value >= 70  # both healthy
    forecasts = last_day(result, "usage_forecasts")
    assert forecasts["requests_forecast"].value >= forecasts["requests_to_date"].value > 0  # the platform's
    totals = next(entry.user_message for entry in dagster_instance.all_logs(result.run_id)
                  if entry.step_key == "usage_forecasts" and entry.user_message.startswith("run totals over"))
    assert "requests_seasonal_mape_pct=" in totals
    assert "seasonal MAPE" in forecasts["backtest"].value

    with connect(loaded) as conn:
        conn.execute("UPDATE analytics_org_activity_daily SET request_count = request_count + 1, wau = 0 "
                     "WHERE day = '2026-03-05' AND organization_id = 'org-b'")
        conn.execute("DELETE FROM analytics_customer_health_daily WHERE day = '2026-03-06' AND organization_id = "
                     "'org-a'")
        conn.commit()
    tight = {**resources, "metrics_settings": MetricsSettings(forecast_mape_bound_percent=0.0,
                                                              budget_settings=resources["budget_settings"])}
    checked = run(tight, dagster_instance, selection=dg.AssetSelection.checks(*CHECKS))
    failed = {(e.check_name, e.partition): e for e in checked.get_asset_check_evaluations() if not e.passed}
    assert {name for name, _ in failed} == {"activity_matches_rollups", "dau_within_wau_within_mau",
                                           "every_active_organization_has_a_health_score",
                                           "forecast_backtest_within_bound"}
    # Each failure is on the day it concerns.
    assert {day for name, day in failed if name == "activity_matches_rollups"} == {"2026-03-05"}
    assert "| 2026-03-05 | org-b | 6 | 7 |" in failed[("activity_matches_rollups", "2026-03-05")].metadata[
        "mismatches"].value
    unscored = failed[("every_active_organization_has_a_health_score", "2026-03-06")]
    assert unscored.metadata["without_a_score"].value == 1
    assert all(e.severity == dg.AssetCheckSeverity.WARN for (name, _), e in failed.items()
               if name == "forecast_backtest_within_bound")


def test_the_domain_registers_its_assets_checks_jobs_and_sensors():
    assert {key.to_user_string() for a in metrics_defs.assets for key in a.keys} == {
        "daily_activity", "feature_adoption", "customer_health", "usage_forecasts", "monthly_revenue",
        "top_customers", "endpoint_hourly_metrics", "agent_hourly_metrics", "session_concurrency"}
    assert {s.name for s in metrics_defs.sensors} == {"daily_metrics_follow_rollups_sensor",
                                                       "sre_metrics_restatement_sensor"}


def test_the_headlines_of_a_month(loaded, tmp_path, dagster_instance):
    from datetime import date

    from analytics_pipeline.metrics.headlines import month_headlines
    from analytics_pipeline.metrics.revenue import replace_monthly_revenue, replace_top_customers

    assert run(pipeline_resources(loaded, str(tmp_path), now=at("2026-03-29 06:00")), dagster_instance).success
    with connect(loaded) as conn:
        replace_monthly_revenue(conn, date(2026, 3, 1))
        replace_top_customers(conn, date(2026, 3, 1))
        headlines = month_headlines(conn, date(2026, 3, 1))
    assert (headlines.last_day, headlines.month_active_customers, headlines.mau) == (date(2026, 3, 28), 2, 4)
    assert [(org, score) for org, score, *_ in headlines.least_healthy] == [("org-a", 100), ("org-b", 100)]  # by id
    assert [c.organization_id for c in headlines.top_by_revenue] == ["org-a", "org-b"]
    forecast = headlines.forecast
    assert forecast.as_of == date(2026, 3, 15) and forecast.requests_actual == 28 * 30 + 1
    assert forecast.requests_to_date == 15 * 30 + 1
