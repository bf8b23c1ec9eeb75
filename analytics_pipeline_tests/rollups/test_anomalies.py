"""Usage anomalies: the SQL statistics on a real PostgreSQL, the guards, and the Dagster check on
eight days of steady hourly rollups with injected spikes, drops and a disappearing organization."""

import statistics
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from analytics_pipeline.defs.rollups.anomaly_checks import USAGE_WITHIN_NORMAL_RANGE, usage_within_normal_range
from analytics_pipeline.defs.rollups.assets import hourly_usage_rollups
from analytics_pipeline.rollups.anomalies import (
    AnomalyPolicy,
    Direction,
    OrgHourUsage,
    anomalies_markdown,
    classify,
    effective_stddev,
    judge_usage,
    noise_floor,
    usage_by_org_hour,
    z_score,
)
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.resources import pipeline_resources

FIRST_DAY = datetime(2026, 6, 1, tzinfo=UTC)
JUDGED_DAY = FIRST_DAY + timedelta(days=7)  # the eighth day: seven trailing days behind it
HOUR = timedelta(hours=1)
SPIKE_HOUR = JUDGED_DAY + timedelta(hours=14)
ORGS = ("org-steady", "org-busy", "org-spike", "org-drop", "org-gone")
BASE = {"org-steady": 100, "org-busy": 2_000, "org-spike": 300, "org-drop": 500, "org-gone": 40}
MODELS = ("m1", "m2")
POLICY = AnomalyPolicy()


def steady_requests(org: str, hour: datetime) -> int:
    """Per model: the organization's base with a deterministic +-3% wobble by day and hour."""
    day = (hour - FIRST_DAY).days
    wobble = ((day * 7 + hour.hour * 3 + ORGS.index(org)) % 7 - 3) / 100
    return round(BASE[org] * (1 + wobble))


def rollup_rows(days: int = 8, first: datetime = FIRST_DAY, orgs=ORGS, factors=None, missing=()):
    """Hourly rollup rows for ``days`` days: every org, every model; ``factors`` multiplies an
    (org, hour)'s usage, ``missing`` drops (org, hour) pairs."""
    factors = factors or {}
    rows = []
    for i in range(days * 24):
        hour = first + i * HOUR
        for org in orgs:
            if (org, hour) in missing:
                continue
            for model in MODELS:
                requests = round(steady_requests(org, hour) * factors.get((org, hour), 1))
                rows.append((hour, org, model, requests, requests * 40, requests * 10, requests * 50, 0, 0, 0, 0))
    return rows


def insert_rollups(conn, rows) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO analytics_hourly_rollups (bucket_start, organization_id, model_id, request_count, "
            "tokens_input, tokens_output, tokens_total, error_count, client_error_count, server_error_count, "
            "cost_total) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
    conn.commit()


INJECTED = {
    "factors": {("org-spike", SPIKE_HOUR): 4.0, ("org-drop", SPIKE_HOUR): 0.3},
    "missing": {("org-gone", SPIKE_HOUR)},
}


def run_check(warehouse_url, first_key: str, last_key: str | None = None, environ: dict | None = None):
    """Only the check (the rollups are written by hand), over one partition, two days after the
    judged day."""
    [evaluation] = run_check_range(warehouse_url, first_key, last_key, environ)
    return evaluation


def run_check_range(warehouse_url, first_key: str, last_key: str | None = None, environ: dict | None = None):
    """The check's evaluations over a single-run range, one per hour."""
    evaluations = dg.materialize(
        [hourly_usage_rollups, usage_within_normal_range],
        selection=dg.AssetSelection.checks(usage_within_normal_range),
        resources=pipeline_resources(warehouse_url, "/nonexistent", now=JUDGED_DAY + timedelta(days=2),
                                     environ=environ),
        tags={"dagster/asset_partition_range_start": first_key,
              "dagster/asset_partition_range_end": last_key or first_key},
    ).get_asset_check_evaluations()
    assert {evaluation.check_name for evaluation in evaluations} == {USAGE_WITHIN_NORMAL_RANGE}
    return evaluations


def key(hour: datetime) -> str:
    return hour.strftime("%Y-%m-%d-%H:%M")


def meta(evaluation, name):
    return evaluation.metadata[name].value


# --- the pure rules -------------------------------------------------------------------------


def test_noise_floors_keep_the_scale_positive():
    assert effective_stddev("requests", 10_000.0, 0.0, 10_000.0, POLICY) == 1_000.0  # 10% of the mean
    assert effective_stddev("requests", 100.0, 0.0, 100.0, POLICY) == 20.0  # 2 x sqrt(100): Poisson noise
    assert effective_stddev("requests", 100.0, 25.0, 100.0, POLICY) == 25.0  # a real stddev above the floors
    assert effective_stddev("requests", 0.1, 0.0, 0.1, POLICY) == 1.0  # never below 1
    # Tokens: 5 x mean / sqrt(mean requests): 5 x 50,000 / 10 for 100 requests an hour.
    assert effective_stddev("tokens", 50_000.0, 0.0, 100.0, POLICY) == 25_000.0
    assert effective_stddev("tokens", 50_000.0, 0.0, 1_000_000.0, POLICY) == 5_000.0  # then 10% of the mean
    assert noise_floor("tokens", 0.0, 0.0, POLICY) == 1.0
    assert z_score(160, 100, 20.0) == pytest.approx(3.0)
    assert classify(3.0, POLICY) is None  # beyond, not at, 3 standard deviations
    assert classify(3.01, POLICY) is Direction.SPIKE
    assert classify(-3.01, POLICY) is Direction.DROP


@pytest.mark.parametrize("trailing_days, required", [(7, 5), (14, 10), (3, 3), (2, 2), (1, 1), (10, 7)])
def test_required_history_days(trailing_days, required):
    assert AnomalyPolicy(trailing_days=trailing_days).required_history_days == required


@pytest.mark.parametrize("kwargs", [{"trailing_days": 0}, {"stddevs": 0}, {"absolute_floor": 0}])
def test_nonsense_policies_are_refused(kwargs):
    with pytest.raises(ValueError):
        AnomalyPolicy(**kwargs)


def row(org, value, history_days=7, days_with_usage=7, mean=10_000.0, stddev=5.0, hour=SPIKE_HOUR):
    """A busy organization (floors: 10% of the mean for requests, 5% for tokens)."""
    return OrgHourUsage(hour, org, value, value * 50, history_days, days_with_usage, mean, stddev,
                        mean * 50, stddev * 50)


def test_guards_new_organizations_short_history_and_open_hours():
    now = SPIKE_HOUR + timedelta(minutes=30)  # the spike hour is still open
    rows = [row("new", 50_000, days_with_usage=0, mean=0.0, stddev=0.0, hour=SPIKE_HOUR - HOUR),
            row("short", 90_000, history_days=4, hour=SPIKE_HOUR - HOUR),
            row("normal", 10_400, hour=SPIKE_HOUR - HOUR),
            row("filling-up", 1_000, hour=SPIKE_HOUR)]
    report = judge_usage(rows, POLICY, SPIKE_HOUR - HOUR, SPIKE_HOUR + HOUR, now=now)
    assert report.passed and report.anomalies == []
    assert (report.hours, report.open_hours, report.judged, report.short_history) == (2, 1, 1, 1)
    assert report.new_organizations == [(SPIKE_HOUR - HOUR, "new")]

    later = judge_usage(rows, POLICY, SPIKE_HOUR - HOUR, SPIKE_HOUR + HOUR, now=SPIKE_HOUR + HOUR)
    [drop_requests, drop_tokens] = later.anomalies
    assert (drop_requests.organization_id, drop_requests.metric, drop_requests.direction) == (
        "filling-up", "requests", Direction.DROP)
    assert drop_requests.z == pytest.approx((1_000 - 10_000) / 1_000)  # stddev 5 floored at 10% of the mean
    assert drop_tokens.metric == "tokens" and later.open_hours == 0


def test_a_busy_organization_that_vanishes_is_a_drop_whatever_its_z():
    # Mean 12 requests, a wobbly stddev of 8: 0 now is only z = -1.5, but the organization had usage
    # on every history day and has none now.
    gone = row("gone", 0, mean=12.0, stddev=8.0)
    quiet = row("quiet", 0, mean=12.0, stddev=8.0, days_with_usage=6)  # missed a day before: not vanished
    tiny = row("tiny", 0, mean=3.0, stddev=1.0)  # too small to mean anything
    report = judge_usage([gone, quiet, tiny], POLICY, SPIKE_HOUR, SPIKE_HOUR + HOUR, now=SPIKE_HOUR + 2 * HOUR)
    [anomaly] = report.anomalies
    assert (anomaly.organization_id, anomaly.metric, anomaly.direction) == ("gone", "requests", Direction.DROP)
    assert anomaly.z == pytest.approx(-1.5) and report.judged == 3


def test_markdown_lists_largest_deviation_first():
    rows = [row("a", 20_000), row("b", 4_000)]
    report = judge_usage(rows, POLICY, SPIKE_HOUR, SPIKE_HOUR + HOUR, now=SPIKE_HOUR + 2 * HOUR)
    table = anomalies_markdown(report.anomalies, POLICY, limit=3)
    lines = table.splitlines()
    assert lines[2] == (f"| {SPIKE_HOUR:%Y-%m-%d %H:%M} | a | requests | 20,000 | 10,000.0 | 1,000.0 | +10.00 "
                        "| spike |")
    assert lines[3].startswith("| 2026-06-08 14:00 | a | tokens | 1,000,000 |")
    assert "| b | requests |" in lines[4] and "| -6.00 | drop |" in lines[4]
    assert "… and 1 more" in table


# --- the SQL on PostgreSQL ------------------------------------------------------------------


def test_sql_statistics_equal_python_ones_and_missing_days_count_as_zero(warehouse_url):
    # org-gone is absent on two trailing days (zeros, not gaps), and absent in the judged hour too.
    missing = {("org-gone", SPIKE_HOUR - timedelta(days=d)) for d in (0, 2, 5)}
    data = rollup_rows(missing=missing)
    with connect(warehouse_url) as conn:
        insert_rollups(conn, data)
        rows = {r.organization_id: r for r in usage_by_org_hour(conn, SPIKE_HOUR, SPIKE_HOUR + HOUR, 7)}
    assert set(rows) == set(ORGS)
    for org in ORGS:
        history = [0 if (org, SPIKE_HOUR - timedelta(days=d)) in missing
                   else 2 * steady_requests(org, SPIKE_HOUR - timedelta(days=d)) for d in range(1, 8)]
        current = 0 if (org, SPIKE_HOUR) in missing else 2 * steady_requests(org, SPIKE_HOUR)
        r = rows[org]
        assert (r.requests, r.tokens, r.history_days) == (current, current * 50, 7), org
        assert r.days_with_usage == sum(1 for v in history if v), org
        assert r.requests_mean == pytest.approx(statistics.mean(history)), org
        assert r.requests_stddev == pytest.approx(statistics.stdev(history)), org
        assert r.tokens_stddev == pytest.approx(50 * statistics.stdev(history)), org


def test_hours_never_loaded_are_not_history(warehouse_url):
    # Days 2-5 of the trailing week were never loaded (no organization has rows): 3 days of history.
    unloaded = {FIRST_DAY + timedelta(days=d) for d in (1, 2, 3, 4)}
    data = [r for r in rollup_rows() if r[0].replace(hour=0) not in unloaded]
    with connect(warehouse_url) as conn:
        insert_rollups(conn, data)
        rows = usage_by_org_hour(conn, SPIKE_HOUR, SPIKE_HOUR + HOUR, 7)
    assert {(r.history_days, r.days_with_usage) for r in rows} == {(3, 3)}


# --- the Dagster check ----------------------------------------------------------------------


def test_steady_usage_passes(warehouse_url):
    with connect(warehouse_url) as conn:
        insert_rollups(conn, rollup_rows())
    evaluation = run_check(warehouse_url, key(SPIKE_HOUR))
    assert evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert meta(evaluation, "org_hours_judged") == len(ORGS)
    assert meta(evaluation, "organizations_flagged") == 0 and "anomalies" not in evaluation.metadata
    assert meta(evaluation, "max_abs_z") < 1
    assert evaluation.description.startswith("all 5 organization-hours within 3 standard deviations")


def test_spike_drop_and_disappearance_are_flagged_with_their_direction(warehouse_url):
    with connect(warehouse_url) as conn:
        insert_rollups(conn, rollup_rows(**INJECTED))
    evaluation = run_check(warehouse_url, key(SPIKE_HOUR))
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert meta(evaluation, "flagged_organizations") == "org-drop, org-gone, org-spike"
    assert (meta(evaluation, "organizations_flagged"), meta(evaluation, "spikes"), meta(evaluation, "drops")) == (
        3, 1, 2)
    table = meta(evaluation, "anomalies")
    directions = {line.split(" | ")[1]: line.split(" | ")[-1].strip(" |")
                  for line in table.splitlines() if line.startswith("| 2026")}
    assert directions == {"org-spike": "spike", "org-drop": "drop", "org-gone": "drop"}
    spike_line = next(line for line in table.splitlines() if "| org-spike | requests |" in line)
    history = [2 * steady_requests("org-spike", SPIKE_HOUR - timedelta(days=d)) for d in range(1, 8)]
    value = round(steady_requests("org-spike", SPIKE_HOUR) * 4) * 2
    assert f"| {value:,} | {statistics.mean(history):,.1f} |" in spike_line
    assert "org-steady" not in table and "org-busy" not in table


def test_a_single_run_range_judges_every_hour(warehouse_url):
    with connect(warehouse_url) as conn:
        insert_rollups(conn, rollup_rows(factors={("org-spike", SPIKE_HOUR): 4.0,
                                                  ("org-busy", JUDGED_DAY + timedelta(hours=3)): 0.2}))
    evaluations = run_check_range(warehouse_url, key(JUDGED_DAY), key(JUDGED_DAY + timedelta(hours=23)))
    # One result per hour, each judged on its own hour (the UI shows no hour of the range skipped).
    by_hour = {evaluation.partition: evaluation for evaluation in evaluations}
    assert sorted(by_hour) == [key(JUDGED_DAY + timedelta(hours=h)) for h in range(24)]
    assert all((meta(e, "hours"), meta(e, "org_hours_judged")) == (1, len(ORGS)) for e in evaluations)
    flagged = {hour: meta(e, "flagged_organizations") for hour, e in by_hour.items() if not e.passed}
    assert flagged == {key(JUDGED_DAY + timedelta(hours=3)): "org-busy", key(SPIKE_HOUR): "org-spike"}
    spike = by_hour[key(SPIKE_HOUR)]
    assert meta(spike, "window_end") == (SPIKE_HOUR + timedelta(hours=1)).timestamp()
    assert f"| {SPIKE_HOUR:%Y-%m-%d %H:%M} | org-spike | requests |" in meta(spike, "anomalies")


def test_short_history_is_not_judged(warehouse_url):
    # Only the three days before the judged one are loaded: 3 < 5 of 7 history days.
    with connect(warehouse_url) as conn:
        insert_rollups(conn, rollup_rows(days=4, first=JUDGED_DAY - timedelta(days=3), **INJECTED))
    evaluation = run_check(warehouse_url, key(SPIKE_HOUR))
    assert evaluation.passed
    assert (meta(evaluation, "org_hours_judged"), meta(evaluation, "org_hours_short_history")) == (0, len(ORGS))
    assert evaluation.description == (
        "not judged: 5 organization-hour(s) with fewer than 5 of the trailing 7 days loaded")


def test_a_new_organization_is_listed_not_flagged(warehouse_url):
    rows = rollup_rows() + [(SPIKE_HOUR, "org-new", "m1", 5_000, 0, 0, 0, 0, 0, 0, 0)]
    with connect(warehouse_url) as conn:
        insert_rollups(conn, rows)
    evaluation = run_check(warehouse_url, key(SPIKE_HOUR))
    assert evaluation.passed
    assert meta(evaluation, "org_hours_new_organization") == 1 and meta(evaluation, "new_organizations") == "org-new"


def test_settings_change_the_threshold(warehouse_url):
    # A 1.5x spike against a +-3% wobble (stddev floored at 10% of the mean) is z = 5: it warns with
    # the default 3 standard deviations and passes with ANALYTICS_ANOMALY_STDDEVS=6.
    with connect(warehouse_url) as conn:
        insert_rollups(conn, rollup_rows(factors={("org-spike", SPIKE_HOUR): 1.5}))
    assert not run_check(warehouse_url, key(SPIKE_HOUR)).passed
    evaluation = run_check(warehouse_url, key(SPIKE_HOUR), environ={"ANALYTICS_ANOMALY_STDDEVS": "6"})
    assert evaluation.passed and meta(evaluation, "stddevs") == 6.0
