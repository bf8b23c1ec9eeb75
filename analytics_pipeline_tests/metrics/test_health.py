"""Customer health: the documented formula, and hand-made histories for each band and churn signal."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from analytics_pipeline.metrics.activity import replace_activity
from analytics_pipeline.metrics.health import (
    HealthInputs,
    HealthPolicy,
    band_of,
    budget_burn,
    health_score,
    replace_customer_health,
)
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.metrics.events import at, daily, insert

D = date(2026, 3, 31)


def inputs(**changes) -> HealthInputs:
    """A steady customer: 20 requests a day for months, no errors, the platform's latency, active today."""
    values = dict(day=D, organization_id="org", requests_last_7=140, requests_prior_7=140, requests_prior_28=560,
                  errors_last_7=0, latency_p95_last_7=100.0, platform_p95_last_7=100.0, last_active_day=D,
                  first_active_day=date(2025, 1, 1))
    return HealthInputs(**{**values, **changes})


def test_each_component_is_linear_between_its_documented_points():
    assert health_score(inputs()).score == 100
    halved = health_score(inputs(requests_last_7=70))  # trend 0.5: 33.3 -> (1,000 + 2,500 + 1,500 + 1,500) / 85
    assert (halved.usage_trend_ratio, round(halved.trend_score, 2), halved.score) == (0.5, 33.33, 76)
    assert health_score(inputs(requests_last_7=35)).trend_score == 0  # 0.25 and below
    assert health_score(inputs(requests_last_7=280)).trend_score == 100  # growth caps at 100
    assert health_score(inputs(errors_last_7=7)).error_score == pytest.approx(100 * 0.05 / 0.09)  # 5 %
    assert health_score(inputs(errors_last_7=14)).error_score == 0  # 10 %
    assert health_score(inputs(latency_p95_last_7=200.0)).latency_score == 50  # twice the platform's p95
    assert health_score(inputs(last_active_day=D - timedelta(days=1))).recency_score == 100
    assert health_score(inputs(last_active_day=D - timedelta(days=14))).recency_score == 0
    with_budget = health_score(inputs(budget_burn=1.5))  # spending at 1.5x the month's pace
    assert (with_budget.budget_score, with_budget.score) == (50, 93)  # (85 x 100 + 15 x 50) / 100 = 92.5 -> 93
    assert budget_burn(Decimal("600"), Decimal("1000"), D) == pytest.approx(0.6)  # 60 % spent, month over


def test_bands_and_churn_signals():
    assert [band_of(s) for s in (100, 70, 69, 40, 39, 0)] == ["healthy", "healthy", "at_risk", "at_risk",
                                                              "critical", "critical"]
    assert health_score(inputs(requests_last_7=70, requests_prior_7=140)).churn_signal is False  # exactly 50 %
    drop = health_score(inputs(requests_last_7=69, requests_prior_7=140))
    assert (drop.churn_signal, drop.churn_reason) == (True, "usage_drop: requests down 51% week over week")
    gone = health_score(inputs(last_active_day=D - timedelta(days=14), requests_last_7=0, requests_prior_7=0))
    assert gone.churn_reason == "inactive: no activity for 14 days"
    lenient = health_score(inputs(requests_last_7=50, requests_prior_7=140), HealthPolicy(churn_drop=0.7))
    assert not lenient.churn_signal


def test_a_young_customer_is_not_scored_on_a_trend_it_cannot_have_yet():
    young = health_score(inputs(first_active_day=D - timedelta(days=3), requests_last_7=40, requests_prior_7=0,
                                requests_prior_28=0))
    assert (young.usage_trend_ratio, young.trend_score, young.week_over_week_ratio, young.score) == (None, None,
                                                                                                    None, 100)


@pytest.fixture
def conn(warehouse_url):
    with connect(warehouse_url) as conn:
        yield conn


def test_hand_made_histories_land_in_their_bands(conn):
    errors = [e | {"status_code": 500} for e in daily("2026-03-25", 4, "org-at-risk", 1, hour=3)]
    insert(conn, daily("2026-02-20", 40, "org-healthy", 20)
           + daily("2026-02-20", 33, "org-at-risk", 20) + daily("2026-03-25", 7, "org-at-risk", 10) + errors[:4]
           + daily("2026-02-20", 28, "org-critical", 20)  # last active March 19
           + daily("2026-03-28", 4, "org-new", 10)
           + daily("2026-02-20", 19, "org-gone", 5))  # last active March 10
    start = at("2026-02-20 00:00")
    replace_activity(conn, start, at("2026-04-01 00:00"), churn_days=14)
    summary = replace_customer_health(conn, at("2026-03-31 00:00"), at("2026-04-01 00:00"))
    scores = {s.organization_id: s for s in summary.last_day_scores}
    # org-at-risk: 74 requests the last week (4 of them errors, 5.4 %) against 20 a day: trend 74/140 = 0.53
    # -> 37.1, errors 51.6, latency and recency 100 -> (30 x 37.1 + 25 x 51.6 + 1,500 + 1,500) / 85 = 63
    assert {name: (s.score, s.band) for name, s in scores.items()} == {
        "org-healthy": (100, "healthy"), "org-new": (100, "healthy"), "org-at-risk": (63, "at_risk"),
        "org-critical": (5, "critical"),  # silent 12 days: trend 0, recency 15.4 -> 15 x 15.4 / 45
        "org-gone": (0, "critical"),
    }
    assert scores["org-critical"].churn_reason == "usage_drop: requests down 100% week over week"
    assert scores["org-gone"].churn_reason == "inactive: no activity for 21 days"
    assert not scores["org-at-risk"].churn_signal  # 74 against 140: down 47 %, not more than half
    assert [s.organization_id for s in summary.last_day_scores[:3]] == ["org-gone", "org-critical", "org-at-risk"]
    assert (summary.in_band("healthy"), summary.in_band("critical"), len(summary.churn_signals)) == (2, 2, 2)
