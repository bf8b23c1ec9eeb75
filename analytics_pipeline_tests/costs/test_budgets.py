"""Budget thresholds (79.99 % quiet, 80 % warn, 100 % fail, forecast-only warn) and the budgets file."""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from analytics_pipeline.costs.budgets import (
    TOTAL,
    BudgetFileError,
    BudgetLevel,
    Budgets,
    describe,
    evaluate_budgets,
    forecast_month_end,
    load_budgets,
    parse_budgets,
    seasonal_forecasts,
)

D = Decimal
EXAMPLE = Path(__file__).resolve().parents[2] / "analytics_pipeline" / "costs" / "budgets.example.json"
END_OF_APRIL = date(2026, 4, 30)  # the whole month elapsed: forecast == actual
MID_APRIL = date(2026, 4, 10)  # 10 of 30 days: forecast = 3 x actual


def evaluate(actual, through=END_OF_APRIL, budget="1000.00", **options):
    budgets = Budgets(tenants={"org-a": D(budget)}, total=None, **options)
    return {s.name: s for s in evaluate_budgets(budgets, through=through, tenant_costs={"org-a": D(actual)}).statuses}


@pytest.mark.parametrize("actual, level", [
    ("799.99", BudgetLevel.OK),  # 79.999 %
    ("799.90", BudgetLevel.OK),  # 79.99 %
    ("800.00", BudgetLevel.WARN),  # exactly 80 %
    ("999.99", BudgetLevel.WARN),
    ("1000.00", BudgetLevel.FAIL),  # exactly 100 %
    ("1500.00", BudgetLevel.FAIL),
])
def test_thresholds_on_actual_cost_are_exact(actual, level):
    status = evaluate(actual)["org-a"]
    assert status.level is level
    assert status.forecast == D(actual)  # the month is over: the forecast is what was spent


def test_forecast_only_warns():
    # 10 of 30 days: 300.00 spent (30 %), run rate forecast 900.00 (90 %): a warning, from the forecast alone.
    status = evaluate("300.00", through=MID_APRIL)["org-a"]
    assert (status.level, status.forecast, status.reasons) == (BudgetLevel.WARN, D("900.00"),
                                                               ("forecast at warning level",))
    # 266.66 -> forecast 799.98: quiet.
    assert evaluate("266.66", through=MID_APRIL)["org-a"].level is BudgetLevel.OK


def test_a_forecast_over_budget_warns_unless_told_to_fail():
    status = evaluate("400.00", through=MID_APRIL)["org-a"]  # forecast 1,200.00: 120 %
    assert status.level is BudgetLevel.WARN and "forecast to exceed" in status.reasons
    assert evaluate("400.00", through=MID_APRIL, fail_on_forecast=True)["org-a"].level is BudgetLevel.FAIL


def test_forecast_is_the_run_rate_to_the_cent():
    assert forecast_month_end(D("100"), 3, 31) == D("1033.33")
    assert forecast_month_end(D("-5"), 1, 28) == D("-140.00")


def test_total_budget_counts_unattributed_cost():
    budgets = Budgets(tenants={"org-a": D("100"), "org-b": D("100"), "org-c": D("100")}, total=D("300"))
    costs = {"org-a": D("120"), "org-b": D("85"), "org-c": D("10")}
    levels = {s.name: s.level for s in evaluate_budgets(budgets, through=END_OF_APRIL, tenant_costs=costs).statuses}
    assert levels == {"org-a": BudgetLevel.FAIL, "org-b": BudgetLevel.WARN, "org-c": BudgetLevel.OK,
                      TOTAL: BudgetLevel.OK}  # 215 of 300: 71.67 %
    with_unattributed = evaluate_budgets(budgets, through=END_OF_APRIL, tenant_costs={**costs, None: D("40")})
    total = next(s for s in with_unattributed.statuses if s.name == TOTAL)
    assert (total.actual, total.level) == (D("255"), BudgetLevel.WARN)  # 85 %
    assert with_unattributed.level is BudgetLevel.FAIL


def test_description_names_failed_then_warned_budgets():
    budgets = Budgets(tenants={"org-a": D("100"), "org-b": D("100")}, total=None)
    evaluation = evaluate_budgets(budgets, through=END_OF_APRIL, tenant_costs={"org-a": D("85"), "org-b": D("130")})
    text = describe(evaluation)
    assert text.startswith("1 failed, 1 warning, 2026-04 through 30 (30/30 days): org-b: 130.00% spent")
    assert text.index("org-b") < text.index("org-a")
    quiet = evaluate_budgets(budgets, through=END_OF_APRIL, tenant_costs={})
    assert describe(quiet).startswith("All 2 budgets below their warning level")


def test_budget_files_in_json_and_toml(tmp_path):
    example = load_budgets(EXAMPLE)
    assert example.total == D("6000.00") and example.tenants["2679edf5-7ea2-5965-8b20-16dd9c847cd7"] == D("500.00")
    toml = tmp_path / "budgets.toml"
    toml.write_text('currency = "USD"\nwarn_at_percent = 75.5\ntotal_monthly = 1200.10\n'
                    '[tenants]\n"org-a" = "300"\n')
    parsed = load_budgets(toml)
    assert (parsed.warn_ratio, parsed.total, parsed.tenants) == (D("0.755"), D("1200.10"), {"org-a": D("300")})
    assert isinstance(parsed.total, Decimal)


@pytest.mark.parametrize("text, message", [
    ('{"tenants": {"a": "-5"}}', "positive amount"),
    ('{"tenants": {"a": true}}', "not an amount"),
    ('{"tenants": {"a": "abc"}}', "not an amount"),
    ('{"total": "5"}', "unknown key"),
    ("{}", "no budgets"),
    ('{"total_monthly": "5", "warn_at_percent": 120}', "must not exceed"),
    ("[1]", "top level"),
    ("{", "not valid JSON"),
])
def test_bad_budget_files_say_what_is_wrong(text, message):
    with pytest.raises(BudgetFileError, match=message):
        parse_budgets(text, source="b.json")


def test_missing_or_unknown_budget_files(tmp_path):
    with pytest.raises(BudgetFileError, match="cannot read"):
        load_budgets(tmp_path / "absent.json")
    (tmp_path / "budgets.yaml").write_text("total_monthly: 5")
    with pytest.raises(BudgetFileError, match=".json or .toml"):
        load_budgets(tmp_path / "budgets.yaml")


def test_currency_mismatch_is_an_error():
    with pytest.raises(BudgetFileError, match="budgets are in USD but costs are in EUR"):
        evaluate_budgets(Budgets(tenants={}, total=D(1)), through=END_OF_APRIL, tenant_costs={}, currency="EUR")


def test_the_seasonal_forecast_sees_the_weekend_coming():
    # 20.00 a weekday, 5.00 a weekend day since May; through Friday June 12 (12 of 30 days) org-a
    # spent 10 x 20 + 2 x 5 = 210.00. The run rate says 525.00; the rest of June holds 12 weekdays
    # and 6 weekend days, so the month will end at 210 + 12 x 20 + 6 x 5 = 480.00.
    start, through = date(2026, 5, 4), date(2026, 6, 12)
    days = [start + timedelta(days=i) for i in range((through - start).days + 1)]
    history = {"org-a": {day: D("20.00") if day.weekday() < 5 else D("5.00") for day in days}}
    forecasts = seasonal_forecasts(history, through)
    assert forecasts == {"org-a": D("480.00")}
    budgets = Budgets(tenants={"org-a": D("600.00")}, total=D("600.00"))
    run_rate = evaluate_budgets(budgets, through=through, tenant_costs={"org-a": D("210.00")})
    seasonal = evaluate_budgets(budgets, through=through, tenant_costs={"org-a": D("210.00")}, forecasts=forecasts)
    assert [(s.forecast, s.level) for s in run_rate.statuses] == [(D("525.00"), BudgetLevel.WARN)] * 2  # 87.5 %
    assert [(s.forecast, s.level) for s in seasonal.statuses] == [(D("480.00"), BudgetLevel.WARN)] * 2  # 80 %
    quiet = evaluate_budgets(Budgets(tenants={"org-a": D("601.00")}, total=None), through=through,
                             tenant_costs={"org-a": D("210.00")}, forecasts=forecasts)
    assert quiet.level is BudgetLevel.OK  # 79.87 %: the run rate would have warned
