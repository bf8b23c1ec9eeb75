"""Retention periods and cutoffs: pure, with the clock injected."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from analytics_pipeline.defs.resources import RetentionSettings
from analytics_pipeline.retention.lifecycle import RULE_ID, archive_rule, merge_rule
from analytics_pipeline.retention.policy import (
    AS_OF_TOLERANCE,
    InvalidRetentionPolicy,
    RetentionPolicy,
    add_months,
    last_day_ended_by,
    parse_as_of,
    require_not_ahead,
)
from analytics_pipeline.retention.raw_archive import archive_key
from analytics_pipeline.settings import load_settings

NOW = datetime(2027, 1, 10, 3, 0, tzinfo=UTC)


def test_defaults_are_the_seed_periods_and_every_period_comes_from_settings():
    assert RetentionSettings.from_settings(load_settings({})).policy() == RetentionPolicy() == RetentionPolicy(
        raw_archive_after_days=7, raw_retention_days=400, rollup_retention_months=13, quarantine_retention_days=90,
        export_retention_days=90, archive_glacier_after_days=365, archive_expire_after_days=2555,
        dagster_run_retention_days=90)
    env = {"ANALYTICS_RAW_ARCHIVE_AFTER_DAYS": "3", "ANALYTICS_RAW_RETENTION_DAYS": "30",
           "ANALYTICS_ROLLUP_RETENTION_MONTHS": "2", "ANALYTICS_QUARANTINE_RETENTION_DAYS": "4",
           "ANALYTICS_EXPORT_RETENTION_DAYS": "5", "ANALYTICS_ARCHIVE_GLACIER_AFTER_DAYS": "6",
           "ANALYTICS_ARCHIVE_EXPIRE_AFTER_DAYS": "7", "ANALYTICS_DAGSTER_RUN_RETENTION_DAYS": "8"}
    assert RetentionSettings.from_settings(load_settings(env)).policy() == RetentionPolicy(3, 30, 2, 4, 5, 6, 7, 8)


def test_cutoffs_at_an_injected_now():
    cutoffs = RetentionPolicy().cutoffs(NOW)
    assert cutoffs.archive_before == datetime(2027, 1, 3, 3, tzinfo=UTC)
    # 2027-01-02 ended at 01-03T00:00, before the cutoff; 01-03 still has events under 7 days old.
    assert cutoffs.last_archivable_day == date(2027, 1, 2)
    assert cutoffs.drop_before == NOW - timedelta(days=400)
    assert cutoffs.last_droppable_day == date(2025, 12, 5)
    assert cutoffs.rollups_before == datetime(2025, 12, 1, tzinfo=UTC)  # 13 complete months stay
    assert cutoffs.quarantine_before == cutoffs.exports_before == cutoffs.dagster_runs_before == NOW - timedelta(90)
    # Another zone is the same moment.
    assert RetentionPolicy().cutoffs(NOW.astimezone(ZoneInfo("Asia/Tokyo"))) == cutoffs


def test_a_day_is_due_only_once_it_has_ended_before_the_cutoff():
    assert last_day_ended_by(datetime(2027, 1, 3, 0, 0, tzinfo=UTC)) == date(2027, 1, 2)
    assert last_day_ended_by(datetime(2027, 1, 2, 23, 59, 59, tzinfo=UTC)) == date(2027, 1, 1)


def test_month_arithmetic_crosses_years():
    assert add_months(datetime(2027, 1, 1, tzinfo=UTC), -13) == datetime(2025, 12, 1, tzinfo=UTC)
    assert add_months(datetime(2027, 12, 1, tzinfo=UTC), 1) == datetime(2028, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("kwargs", [
    {"raw_retention_days": 7},  # would drop days the same time they are archived
    {"archive_expire_after_days": 365},
    {"export_retention_days": 0},
    {"quarantine_retention_days": -1},
])
def test_contradictory_or_empty_periods_are_refused(kwargs):
    with pytest.raises(InvalidRetentionPolicy):
        RetentionPolicy(**kwargs)


def test_naive_now_is_refused_and_as_of_parses_iso_dates_and_times():
    with pytest.raises(ValueError, match="timezone-aware"):
        RetentionPolicy().cutoffs(datetime(2027, 1, 10))
    assert parse_as_of("2027-01-10") == datetime(2027, 1, 10, tzinfo=UTC)
    assert parse_as_of("2027-01-10T04:30:00Z") == datetime(2027, 1, 10, 4, 30, tzinfo=UTC)
    assert parse_as_of("2027-01-10T05:30:00+01:00") == datetime(2027, 1, 10, 4, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="not an ISO 8601"):
        parse_as_of("yesterday")


def test_archive_keys_are_built_from_the_date_only():
    assert archive_key(date(2026, 3, 4)) == "raw_events/year=2026/month=03/day=04/events.parquet"


def test_lifecycle_rule_is_merged_by_id_keeping_other_rules():
    ours = archive_rule("archive/raw_events/", RetentionPolicy())
    assert ours["Transitions"] == [{"Days": 365, "StorageClass": "GLACIER"}]
    assert ours["Expiration"] == {"Days": 2555}
    other = {"ID": "logs-expiry", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 30}}

    rules, status = merge_rule([other], ours)
    assert status == "created" and rules == [other, ours]
    # S3 echoes rules back with extra fields; the same rule is unchanged.
    echoed = {**ours, "Transitions": [{"Days": 365, "StorageClass": "GLACIER"}], "NoncurrentVersionTransitions": []}
    assert merge_rule([other, echoed], ours) == ([other, echoed], "unchanged")
    stale = {**ours, "Expiration": {"Days": 3650}}
    rules, status = merge_rule([stale, other], ours)
    assert status == "updated" and rules == [ours, other]
    assert [r["ID"] for r in rules] == [RULE_ID, "logs-expiry"]


def test_an_as_of_ahead_of_the_run_is_refused_beyond_the_tolerance():
    created = datetime(2027, 1, 10, 4, 30, 5, tzinfo=UTC)
    assert AS_OF_TOLERANCE == timedelta(hours=1)
    assert require_not_ahead(created - timedelta(days=30), created) == created - timedelta(days=30)  # a rerun
    assert require_not_ahead(created + AS_OF_TOLERANCE, created) == created + AS_OF_TOLERANCE
    tokyo = (created + timedelta(minutes=30)).astimezone(ZoneInfo("Asia/Tokyo"))
    assert require_not_ahead(tokyo, created) == created + timedelta(minutes=30)
    with pytest.raises(ValueError, match=r"1:00:01 after the run was created .* would delete, for good"):
        require_not_ahead(created + AS_OF_TOLERANCE + timedelta(seconds=1), created)
    with pytest.raises(ValueError, match="timezone-aware"):
        require_not_ahead(datetime(2027, 1, 10), created)
