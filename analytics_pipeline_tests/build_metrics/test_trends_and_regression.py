"""Trend figures against hand-computed values; the regression check on generated data; budgets."""

from datetime import UTC, date, datetime, timedelta

import pytest

from analytics_pipeline.build_metrics.contract import RunFileValidator
from analytics_pipeline.build_metrics.loader import RunFileLoader, load_run_files, run_files_between
from analytics_pipeline.build_metrics.regression import (
    DurationBudget,
    RegressionPolicy,
    Verdict,
    change_point,
    compare_recent_durations,
    evaluate_budgets,
)
from analytics_pipeline.build_metrics.trends import replace_duration_trends
from analytics_pipeline.generator.ci_runs import generate_ci_runs
from analytics_pipeline.storage.object_store import LocalDirectoryStore
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.build_metrics.payloads import run_key, timed_run

DAY1 = datetime(2025, 11, 8, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
START = date(2025, 11, 1)
CLOCK = RunFileValidator(now=datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
def conn(warehouse_url):
    with connect(warehouse_url) as conn:
        yield conn


def load_all(conn, store, start, end):
    loader = RunFileLoader(conn, CLOCK)
    return load_run_files(loader, store, run_files_between(store, start, end))


@pytest.fixture
def hand_made_runs(conn, tmp_path):
    store = LocalDirectoryStore(tmp_path / "bm")
    runs = [  # (day, id, start hour, seconds, status, command, commit)
        (DAY1, "a1", 9, 100, "success", "make check", "c1"), (DAY1, "a2", 10, 110, "success", "make check", "c1"),
        (DAY1, "a3", 11, 120, "success", "make check", "c1"), (DAY1, "a4", 12, 130, "success", "make check", "c2"),
        (DAY1, "a5", 13, 200, "success", "make check", "c2"), (DAY1, "a6", 14, 50, "failure", "make check", "c2"),
        (DAY1, "t1", 9, 300, "success", "make test", "c1"),
        (DAY2, "b1", 9, 100, "success", "make check", "c2"), (DAY2, "b2", 10, 140, "success", "make check", "c3"),
        (DAY2, "b3", 11, 30, "cancelled", "make check", "c3"),
    ]
    for day, run_id, hour, seconds, status, command, commit in runs:
        store.write(run_key(day, run_id), timed_run(run_id, day + timedelta(hours=hour), seconds, status=status,
                                                    command=command, commit=f"{commit}000000"))
    summary = load_all(conn, store, DAY1, DAY2 + timedelta(days=1))
    assert summary.accepted == len(runs)


def trend_rows(conn):
    return conn.execute(
        "SELECT day, service, command, runs, successful_runs, round(success_rate::numeric, 4)::float, "
        "duration_p50_seconds, duration_p95_seconds, duration_max_seconds, commits "
        "FROM analytics_ci_duration_trends ORDER BY day, command").fetchall()


def test_daily_trends_equal_hand_computed_figures(conn, hand_made_runs):
    summary = replace_duration_trends(conn, DAY1.date(), DAY2.date() + timedelta(days=1))
    assert summary.rows_written == 3
    assert trend_rows(conn) == [
        # p95 of 100,110,120,130,200 (interpolated) = 130 + 0.8 * 70; the failed 50 s run counts only as a run
        (DAY1.date(), "svc-a", "make check", 6, 5, 0.8333, 120.0, 186.0, 200.0, 2),
        (DAY1.date(), "svc-a", "make test", 1, 1, 1.0, 300.0, 300.0, 300.0, 1),
        (DAY2.date(), "svc-a", "make check", 3, 2, 0.6667, 120.0, 138.0, 140.0, 2),
    ]
    # Over the whole window: 100,100,110,120,130,140,200 -> p50 120, p95 140 + 0.7 * 60.
    check = next(t for t in summary.trends if t.command == "make check")
    assert (check.runs, check.successful_runs, check.duration_p50_seconds, check.duration_max_seconds) == (
        9, 7, 120.0, 200.0)
    assert check.duration_p95_seconds == pytest.approx(182.0)
    assert summary.runs == 10 and summary.services == 1


def test_replacing_a_day_is_idempotent_and_leaves_other_days_alone(conn, hand_made_runs):
    replace_duration_trends(conn, DAY1.date(), DAY2.date() + timedelta(days=1))
    before = trend_rows(conn)
    conn.execute("DELETE FROM analytics_ci_runs WHERE run_id = 'b2'")
    conn.commit()
    replace_duration_trends(conn, DAY1.date(), DAY2.date())  # day 1 only
    assert trend_rows(conn) == before


def test_budget_breaches_are_per_service_and_window(conn, hand_made_runs):
    budget = DurationBudget("make check", max_seconds=180, percentile=0.95)
    [day1] = evaluate_budgets(conn, [budget], DAY1.date(), DAY2.date())
    assert (day1.service, day1.successful_runs, day1.observed_seconds, day1.breached) == ("svc-a", 5, 186.0, True)
    [day2] = evaluate_budgets(conn, [budget], DAY2.date(), DAY2.date() + timedelta(days=1))
    assert (day2.observed_seconds, day2.breached) == (138.0, False)
    assert evaluate_budgets(conn, [DurationBudget("make lint", 10)], DAY1.date(), DAY2.date()) == []
    assert "p95 186.0 s over 5 successful runs (budget 180 s)" in day1.describe()


def test_change_point_finds_the_first_slow_value():
    assert change_point([10, 11, 9, 10, 10, 16, 15, 17, 16]) == 5
    assert change_point([10, 10, 10, 10, 10, 10]) is None  # no slower segment
    assert change_point([16, 16, 16, 10, 10, 10]) is None  # faster, not slower


def test_policy_verdicts_and_validation():
    policy = RegressionPolicy()
    assert [policy.verdict(x) for x in (0.19, 0.2, 0.49, 0.5)] == ["ok", "warn", "warn", "fail"]
    with pytest.raises(ValueError):
        RegressionPolicy(warn_increase=0.6, fail_increase=0.5)


def load_generated(conn, tmp_path, **kwargs):
    store = LocalDirectoryStore(tmp_path / "generated")
    generated = generate_ci_runs(lambda key, data: store.write(key, data), start=START, days=10,
                                 services=["user-org-service", "billing-service"], commands=["make check"],
                                 runs_per_day=6, seed=3, **kwargs)
    start = datetime.combine(START, datetime.min.time(), UTC)
    summary = load_all(conn, store, start, start + timedelta(days=10))
    assert summary.accepted == generated.runs
    return generated


def test_regression_check_fires_on_the_generated_regression_and_names_its_commit(conn, tmp_path):
    generated = load_generated(conn, tmp_path, regression_at=datetime(2025, 11, 7, tzinfo=UTC))
    comparisons = {c.service: c for c in compare_recent_durations(conn, RegressionPolicy(), date(2025, 11, 11))}
    slow, steady = comparisons["user-org-service"], comparisons["billing-service"]
    assert slow.verdict is Verdict.FAIL and slow.increase > 0.5
    assert slow.shift.commit_sha == generated.regression.commit_sha
    assert slow.shift.run_id == generated.regression.first_run_id
    assert slow.shift.last_fast_commit_sha != generated.regression.commit_sha
    assert generated.regression.commit_sha in slow.describe()
    assert steady.verdict is Verdict.OK and abs(steady.increase) < 0.2 and steady.shift is None

    # As of the day before the regression there is nothing to report.
    earlier = compare_recent_durations(conn, RegressionPolicy(window_runs=10), date(2025, 11, 7))
    assert {c.verdict for c in earlier} == {Verdict.OK}


def test_regression_check_stays_quiet_without_a_regression(conn, tmp_path):
    load_generated(conn, tmp_path)
    comparisons = compare_recent_durations(conn, RegressionPolicy(), date(2025, 11, 11))
    assert len(comparisons) == 2
    assert all(c.verdict is Verdict.OK and abs(c.increase) < 0.2 for c in comparisons)
    # Asking for more history than exists says so instead of guessing.
    assert {c.verdict for c in compare_recent_durations(conn, RegressionPolicy(window_runs=40),
                                                        date(2025, 11, 11))} == {Verdict.INSUFFICIENT_HISTORY}
