"""The weekly-seasonal month-end forecast and its backtest, on hand-made daily series."""

from datetime import date, timedelta

import pytest

from analytics_pipeline.metrics.forecasting import backtest, month_end_forecasts, weekday_factors

MONDAY = date(2026, 6, 1)  # June 2026 starts on a Monday: 30 days


def weekly(start: date, days: int, weekday: float, weekend: float) -> dict[date, float]:
    return {start + timedelta(days=i): (weekday if (start + timedelta(days=i)).weekday() < 5 else weekend)
            for i in range(days)}


def test_factors_follow_the_week_and_are_flat_without_two_weeks():
    series = weekly(MONDAY, 28, 120.0, 60.0)  # mean 102.857...
    factors = weekday_factors(series, MONDAY + timedelta(days=27))
    assert factors == pytest.approx((7 / 6,) * 5 + (7 / 12,) * 2)
    assert weekday_factors(series, MONDAY + timedelta(days=12)) == (1.0,) * 7  # 13 days: not trusted yet


def test_a_weekly_pattern_is_forecast_exactly_and_the_run_rate_is_not():
    series = weekly(MONDAY - timedelta(days=28), 28 + 10, 120.0, 60.0)  # 4 weeks of May, June 1-10
    [forecast] = month_end_forecasts({"org": series}, MONDAY + timedelta(days=9)).values()
    june = sum(weekly(MONDAY, 30, 120.0, 60.0).values())  # 22 weekdays, 8 weekend days: 3,120
    assert forecast.actual == 8 * 120 + 2 * 60
    assert forecast.seasonal == pytest.approx(june)
    assert forecast.run_rate == pytest.approx(1080 / 10 * 30)  # 3,240: the 10 days held 2 weekend days of 3
    assert (forecast.days_elapsed, forecast.days_in_month) == (10, 30)


def test_at_month_end_both_forecasts_are_what_happened():
    series = weekly(MONDAY, 30, 10.0, 3.0)
    [forecast] = month_end_forecasts({"org": series}, MONDAY + timedelta(days=29)).values()
    assert forecast.seasonal == forecast.run_rate == forecast.actual == sum(series.values())


def test_a_young_series_starts_on_its_first_day_and_missing_days_are_zero():
    history = {"old": weekly(MONDAY - timedelta(days=28), 38, 100.0, 100.0),
               "new": {MONDAY + timedelta(days=d): 50.0 for d in (7, 9)}}  # June 8 and 10, nothing on the 9th
    through = MONDAY + timedelta(days=9)
    forecasts = month_end_forecasts(history, through)
    totals = {day: history["old"][day] + history["new"].get(day, 0.0) for day in history["old"]}
    f = weekday_factors(totals, through)  # from the platform: both series
    level = (50 / f[0] + 0 / f[1] + 50 / f[2]) / 3  # its 3 days, Monday to Wednesday
    rest = sum(f[(through + timedelta(days=i)).weekday()] for i in range(1, 21))
    assert forecasts["new"].actual == 100.0
    assert forecasts["new"].seasonal == pytest.approx(100 + level * rest)


def test_the_backtest_scores_the_seasonal_method_better_on_a_weekly_series():
    series = {f"org-{i}": weekly(MONDAY - timedelta(days=28), 56, 100.0 * (i + 1), 40.0 * (i + 1)) for i in range(3)}
    result = backtest(series, MONDAY + timedelta(days=27))
    assert result.seasonal_mape == pytest.approx(0, abs=1e-12) and result.seasonal_wape == pytest.approx(0, abs=1e-12)
    assert result.run_rate_mape > 0.03 and result.improvement == pytest.approx(1)
    # the 28 days before June 28, but May 31 (its month has no day left): 27 origins x 3 series
    assert (result.origins, result.cases) == (27, 81)


def test_the_backtest_skips_young_series_and_days_without_usage():
    series = {"young": {MONDAY + timedelta(days=d): 5.0 for d in range(21, 28)},  # 6 days old on the 27th
              "silent": {MONDAY: 0.0, MONDAY + timedelta(days=27): 0.0}}
    result = backtest(series, MONDAY + timedelta(days=27))
    assert (result.cases, result.seasonal_mape) == (0, None)
