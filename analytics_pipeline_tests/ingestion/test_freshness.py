"""Data freshness of the raw events and hourly rollups, on a real warehouse with a clock we set."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from analytics_pipeline.definitions import defs as project_defs
from analytics_pipeline.defs.ingestion.assets import raw_usage_events
from analytics_pipeline.defs.ingestion.checks import raw_events_meet_expectations
from analytics_pipeline.defs.ingestion.freshness import raw_events_are_fresh
from analytics_pipeline.defs.ingestion.jobs import freshness_checks_job
from analytics_pipeline.defs.ingestion.schedules import freshness_checks_schedule
from analytics_pipeline.defs.rollups.assets import hourly_usage_rollups
from analytics_pipeline.defs.rollups.checks import hourly_rollups_are_fresh
from analytics_pipeline.ingestion.freshness import raw_events_freshness
from analytics_pipeline.monitoring.freshness import FAIL, FRESH, WARN, FreshnessReading
from analytics_pipeline.rollups.freshness import hourly_rollups_freshness
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.event_rows import insert_events
from analytics_pipeline_tests.resources import pipeline_resources

FRESHNESS_CHECKS = [raw_events_are_fresh, hourly_rollups_are_fresh]

NEWEST = datetime(2026, 3, 2, 14, 40, tzinfo=UTC)  # the newest event of the warehouse below
WARN_AFTER, FAIL_AFTER = timedelta(minutes=60), timedelta(minutes=120)


def reading(lag_minutes: float | None) -> FreshnessReading:
    newest = None if lag_minutes is None else NEWEST
    as_of = NEWEST + timedelta(minutes=lag_minutes or 0)
    return FreshnessReading(as_of, newest, WARN_AFTER, FAIL_AFTER)


@pytest.mark.parametrize(("lag", "state"), [(0, FRESH), (60, FRESH), (60.01, WARN), (120, WARN), (120.01, FAIL),
                                            (-30, FRESH), (None, FAIL)])
def test_grading_at_the_thresholds(lag, state):
    assert reading(lag).state == state
    if lag is not None:
        assert reading(lag).lag == timedelta(minutes=max(lag, 0))  # skewed "future" data is not negative lag


def test_thresholds_must_be_ordered_and_the_clock_aware():
    with pytest.raises(ValueError, match="warn_after <= fail_after"):
        FreshnessReading(NEWEST, NEWEST, FAIL_AFTER, WARN_AFTER)
    with pytest.raises(ValueError, match="timezone-aware"):
        FreshnessReading(NEWEST.replace(tzinfo=None), NEWEST, WARN_AFTER, FAIL_AFTER)


@pytest.fixture
def warehouse(warehouse_url):
    """Events up to NEWEST (and one from a clock 20 h ahead), their ledger row, and
    hourly rollups of 13:00 (computed 14:05) and 14:00 (computed 14:45)."""
    rows = [(NEWEST - timedelta(minutes=m), "org-a", f"r{m}", "m1", 200, 10.0, 5, 3, 2) for m in (0, 30, 300)]
    rows.append((NEWEST + timedelta(hours=20), "org-a", "r-skewed", "m1", 200, 10.0, 5, 3, 2))
    with connect(warehouse_url) as conn:
        insert_events(conn, rows)
        conn.execute(
            "INSERT INTO analytics_ingested_objects (object_key, etag, size_bytes, delivery_hour, status, "
            "lines_read, accepted, min_event_time, max_event_time, ingested_at) "
            "VALUES ('k', 'e', 1, %s, 'loaded', 4, 4, %s, %s, %s)",
            (NEWEST.replace(minute=0), NEWEST - timedelta(hours=5), NEWEST + timedelta(hours=20),
             NEWEST + timedelta(minutes=2)))
        for bucket, computed in ((NEWEST.replace(hour=13, minute=0), NEWEST.replace(minute=5)),
                                 (NEWEST.replace(minute=0), NEWEST.replace(minute=45))):
            conn.execute(
                "INSERT INTO analytics_hourly_rollups (bucket_start, organization_id, model_id, request_count, "
                "tokens_input, tokens_output, tokens_total, error_count, client_error_count, server_error_count, "
                "cost_total, computed_at) VALUES (%s, 'org-a', 'm1', 1, 1, 1, 2, 0, 0, 0, 0, %s)", (bucket, computed))
        conn.commit()
    return warehouse_url


def test_raw_events_freshness_reads_the_newest_event_up_to_the_clock(warehouse):
    with connect(warehouse) as conn:
        fresh = raw_events_freshness(conn, NEWEST + timedelta(minutes=30), WARN_AFTER, FAIL_AFTER)
        stale = raw_events_freshness(conn, NEWEST + timedelta(minutes=150), WARN_AFTER, FAIL_AFTER)
        as_of_the_past = raw_events_freshness(conn, NEWEST - timedelta(minutes=10), WARN_AFTER, FAIL_AFTER)
        # Far beyond the lookback (2 x fail window, at least a day): the ledger stands in.
        long_dead = raw_events_freshness(conn, NEWEST + timedelta(days=10), WARN_AFTER, FAIL_AFTER)
    # The skewed event (20 h ahead of NEWEST) does not make the data look fresher.
    assert (fresh.newest, fresh.state, fresh.lag) == (NEWEST, FRESH, timedelta(minutes=30))
    assert fresh.details == {"newest_ingestion": NEWEST + timedelta(minutes=2),
                             "newest_delivery_hour": NEWEST.replace(minute=0)}
    assert (stale.state, stale.lag) == (FAIL, timedelta(minutes=150))
    assert as_of_the_past.newest == NEWEST - timedelta(minutes=30)
    assert long_dead.newest == NEWEST + timedelta(hours=20) and long_dead.state == FAIL


def test_hourly_rollups_freshness_reads_how_far_the_rollups_reach(warehouse):
    with connect(warehouse) as conn:
        at_15 = hourly_rollups_freshness(conn, NEWEST.replace(hour=15, minute=0), timedelta(minutes=90),
                                         timedelta(minutes=180))
        before_the_14h_run = hourly_rollups_freshness(conn, NEWEST.replace(minute=30), timedelta(minutes=90),
                                                      timedelta(minutes=180))
    # 14:00's row, computed at 14:45, covers up to 14:45; 13:00's row covers its whole hour.
    assert (at_15.newest, at_15.state, at_15.lag) == (NEWEST.replace(minute=45), FRESH, timedelta(minutes=15))
    assert at_15.details == {"newest_computation": NEWEST.replace(minute=45)}
    assert before_the_14h_run.newest == NEWEST.replace(minute=0)


def test_checks_pass_warn_and_fail_as_the_clock_moves(warehouse, tmp_path, dagster_instance):
    def evaluate(now: datetime) -> dict[str, dg.AssetCheckEvaluation]:
        defs = dg.Definitions(assets=[raw_usage_events, hourly_usage_rollups], asset_checks=FRESHNESS_CHECKS,
                              jobs=[freshness_checks_job], schedules=[freshness_checks_schedule],
                              resources=pipeline_resources(warehouse, str(tmp_path), now=now))
        result = defs.resolve_job_def("freshness_checks_job").execute_in_process(instance=dagster_instance)
        assert result.success  # a stale warehouse fails the checks, not the run
        assert not result.get_asset_materialization_events()  # the job only evaluates checks
        return {e.check_name: e for e in result.get_asset_check_evaluations()}

    fresh = evaluate(NEWEST + timedelta(minutes=20))
    assert fresh["raw_events_are_fresh"].passed and fresh["hourly_rollups_are_fresh"].passed
    assert fresh["raw_events_are_fresh"].metadata["lag_minutes"].value == 20.0

    warn = evaluate(NEWEST + timedelta(minutes=80))
    raw = warn["raw_events_are_fresh"]
    assert not raw.passed and raw.severity == dg.AssetCheckSeverity.WARN
    assert raw.metadata["lag_minutes"].value == 80.0 and raw.metadata["fail_after_minutes"].value == 120.0
    assert "beyond the warn threshold of 60 min" in raw.description
    rollups = warn["hourly_rollups_are_fresh"]  # they reach 14:45: 75 min behind, within their 90
    assert rollups.passed and rollups.metadata["lag_minutes"].value == 75.0

    stale = evaluate(NEWEST + timedelta(hours=5))
    for name in ("raw_events_are_fresh", "hourly_rollups_are_fresh"):
        assert not stale[name].passed and stale[name].severity == dg.AssetCheckSeverity.ERROR
    assert stale["raw_events_are_fresh"].metadata["lag_minutes"].value == 300.0
    assert stale["raw_events_are_fresh"].metadata["newest_ingestion_lag_minutes"].value == 298.0


def test_schedule_runs_exactly_the_freshness_checks(tmp_path):
    schedule = freshness_checks_schedule
    assert (schedule.cron_schedule, schedule.job_name) == ("*/15 * * * *", "freshness_checks_job")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    defs = dg.Definitions(assets=[raw_usage_events, hourly_usage_rollups],
                          asset_checks=[*FRESHNESS_CHECKS, raw_events_meet_expectations], jobs=[freshness_checks_job],
                          resources=pipeline_resources("postgresql://unused", str(tmp_path)))
    job = defs.resolve_job_def("freshness_checks_job")
    selected = job.asset_layer.asset_graph.asset_check_keys
    assert {key.name for key in selected} == {"raw_events_are_fresh", "hourly_rollups_are_fresh"}
    # In the project too (the rollups' check lives with the rollups): two check steps, no asset step.
    project_job = project_defs.resolve_job_def("freshness_checks_job")
    assert {key.name for key in project_job.asset_layer.asset_graph.asset_check_keys} == {
        "raw_events_are_fresh", "hourly_rollups_are_fresh"}
    assert sorted(node.name for node in project_job.nodes) == [
        "hourly_usage_rollups_hourly_rollups_are_fresh", "raw_usage_events_raw_events_are_fresh"]
