"""Month-end forecasts of requests, tokens and cost from the daily rollups, and their backtest."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from analytics_pipeline.metrics.forecast import backtests_between, replace_usage_forecasts
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.costs.conftest import insert_daily_rollup
from analytics_pipeline_tests.metrics.events import at

D = Decimal


@pytest.fixture
def conn(warehouse_url):
    with connect(warehouse_url) as conn:
        yield conn


def test_a_weekly_customer_is_forecast_exactly_and_the_platform_is_the_sum(conn):
    # org-a: 120 requests (12,000 tokens, 1.20 USD) a weekday, 60 a weekend day, from May 4 (a Monday);
    # org-b: the same shape at a tenth of it.
    day = date(2026, 5, 4)
    while day <= date(2026, 6, 10):
        weekday = day.weekday() < 5
        insert_daily_rollup(conn, day, "org-a", requests=120 if weekday else 60, tokens=12000 if weekday else 6000,
                            revenue="1.20" if weekday else "0.60")
        insert_daily_rollup(conn, day, "org-b", requests=12 if weekday else 6, tokens=1200 if weekday else 600,
                            revenue="0.12" if weekday else "0.06")
        day += timedelta(days=1)
    conn.commit()
    summary = replace_usage_forecasts(conn, at("2026-06-10 00:00"), at("2026-06-11 00:00"))
    org_a = next(f for f in summary.organizations if f.organization_id == "org-a")
    # June: 22 weekdays and 8 weekend days -> 22 x 120 + 8 x 60 = 3,120 requests; through the 10th, 1,080.
    assert (org_a.requests_to_date, org_a.requests_forecast, org_a.requests_run_rate) == (1080, 3120, 3240)
    assert (org_a.tokens_forecast, org_a.cost_to_date, org_a.cost_forecast) == (312000, D("10.80"), D("31.2000"))
    platform = summary.platform
    assert platform.organization_id is None
    assert platform.requests_forecast == org_a.requests_forecast + next(
        f.requests_forecast for f in summary.organizations if f.organization_id == "org-b")
    assert platform.requests_forecast == 3120 + 312
    assert (platform.cost_to_date, platform.cost_forecast) == (D("10.80") + D("1.08"), D("31.20") + D("3.12"))
    requests = summary.backtests["requests"]
    assert requests.seasonal_mape < requests.run_rate_mape
    assert [b.metric for b in backtests_between(conn, date(2026, 6, 10), date(2026, 6, 11))] == ["cost", "requests",
                                                                                                  "tokens"]


def test_a_window_of_days_forecasts_each_as_of_its_own_end_and_reruns_replace(conn):
    for d in range(1, 31):
        insert_daily_rollup(conn, date(2026, 6, d), "org-a", requests=10, tokens=10, revenue="1")
    conn.commit()
    replace_usage_forecasts(conn, at("2026-06-01 00:00"), at("2026-07-01 00:00"))
    again = replace_usage_forecasts(conn, at("2026-06-01 00:00"), at("2026-07-01 00:00"))
    rows = conn.execute("SELECT as_of, requests_to_date, requests_forecast FROM analytics_usage_forecasts "
                        "WHERE organization_id = 'org-a' ORDER BY as_of").fetchall()
    assert len(rows) == 30 and rows[0] == (date(2026, 6, 1), 10, 300) and rows[-1] == (date(2026, 6, 30), 300, 300)
    assert again.rows == 60  # org-a and the platform, 30 days: nothing added by the rerun
    assert conn.execute("SELECT count(*) FROM analytics_usage_forecasts").fetchone() == (60,)
