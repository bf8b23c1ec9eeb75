"""``retention_job`` end to end on PostgreSQL, moto's S3 and a PostgreSQL-backed Dagster instance."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from analytics_pipeline.defs.resources import ClockResource
from analytics_pipeline.defs.retention.jobs import retention_job
from analytics_pipeline.defs.retention.schedules import retention_schedule
from analytics_pipeline.retention.lifecycle import RULE_ID
from analytics_pipeline.retention.raw_archive import archive_key
from analytics_pipeline_tests.resources import pipeline_resources
from analytics_pipeline_tests.retention.helpers import (
    TODAY,
    day_events,
    days_ago,
    insert_event_keys,
    insert_full_events,
    partition_days,
    warehouse_snapshot,
)

OLD, ARCHIVABLE, RECENT = days_ago(410), days_ago(30), days_ago(2)
AS_OF = TODAY.isoformat()


def resources(warehouse_url, s3_endpoint, bucket, archive_url=None):
    """The job's resources; its clock is frozen at the tick (the run's creation time, for the job)."""
    return pipeline_resources(warehouse_url, f"s3://{bucket}", s3_endpoint=s3_endpoint, now=TODAY,
                              archive_url=archive_url or f"s3://{bucket}/archive")


def add_run(instance, status, created: datetime) -> str:
    run = dg.DagsterRun(job_name="hourly_rollups_job", run_id=str(uuid.uuid4()), status=status)
    instance.run_storage.add_historical_run(run, created.astimezone(UTC).replace(tzinfo=None))
    instance.report_engine_event("a step ran", run)  # an event-log entry of the run
    return run.run_id


@pytest.fixture
def warehouse(conn):
    for day, n in ((OLD, 12), (ARCHIVABLE, 20), (RECENT, 5)):
        events = day_events(day, n)
        insert_full_events(conn, events)
        insert_event_keys(conn, events)
    object_id = conn.execute(
        "INSERT INTO analytics_ingested_objects (object_key, etag, size_bytes, delivery_hour, status) "
        "VALUES ('k', 'e', 1, now(), 'loaded') RETURNING object_id").fetchone()[0]
    conn.execute("INSERT INTO analytics_quarantine (object_id, object_key, reason, quarantined_at) "
                 "VALUES (%s, 'k', 'invalid_json', %s)", (object_id, TODAY - timedelta(days=120)))
    return conn


@pytest.fixture
def runs(dagster_instance):
    return {
        "old_success": add_run(dagster_instance, dg.DagsterRunStatus.SUCCESS, TODAY - timedelta(days=120)),
        "old_failure": add_run(dagster_instance, dg.DagsterRunStatus.FAILURE, TODAY - timedelta(days=95)),
        "old_but_started": add_run(dagster_instance, dg.DagsterRunStatus.STARTED, TODAY - timedelta(days=120)),
        "recent": add_run(dagster_instance, dg.DagsterRunStatus.SUCCESS, TODAY - timedelta(days=10)),
    }


def step_metadata(result, step):
    for event in result.all_events:
        if event.step_key == step and event.event_type_value == "STEP_OUTPUT":
            return {k: v.value for k, v in event.event_specific_data.metadata.items()}
    raise AssertionError(f"no output of {step}")


def s3_keys(s3_client, bucket):
    return sorted(o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket).get("Contents", []))


def lifecycle_rules(s3_client, bucket):
    try:
        return s3_client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except s3_client.exceptions.ClientError:
        return []


def run_ids(instance):
    return {r.dagster_run.run_id for r in instance.get_run_records()}


def test_a_dry_run_reports_every_action_and_changes_nothing(analytics_home, warehouse_url, warehouse, s3_endpoint,
                                                            s3_bucket, s3_client, dagster_instance, runs):
    before = (warehouse_snapshot(warehouse), s3_keys(s3_client, s3_bucket), run_ids(dagster_instance))
    result = retention_job.execute_in_process(
        run_config={"dry_run": True, "as_of": AS_OF}, instance=dagster_instance,
        resources=resources(warehouse_url, s3_endpoint, s3_bucket))

    assert result.success
    archive = step_metadata(result, "archive_raw_event_days")
    assert (archive["dry_run"], archive["days_archived"], archive["rows_archived"]) == (True, 2, 32)
    assert "would archive" in archive["details"]
    drop = step_metadata(result, "drop_expired_raw_partitions")
    # Nothing is archived in a dry run, so the old day is reported as kept.
    assert drop["partitions_dropped"] == 0 and drop["partitions_kept"] == 1
    assert step_metadata(result, "delete_expired_quarantine")["rows_deleted"] == 1
    assert step_metadata(result, "ensure_archive_lifecycle_rule")["status"] == "would be created"
    assert step_metadata(result, "prune_dagster_runs")["runs_deleted"] == 2
    assert step_metadata(result, "prune_dagster_runs")["unfinished_runs_kept"] == 1
    assert step_metadata(result, "delete_expired_rollups")["as_of"] == TODAY.isoformat()

    after_runs = run_ids(dagster_instance) - {result.run_id}
    assert (warehouse_snapshot(warehouse), s3_keys(s3_client, s3_bucket), after_runs) == before
    assert lifecycle_rules(s3_client, s3_bucket) == []


def test_the_job_applies_every_period_once(analytics_home, warehouse_url, warehouse, s3_endpoint, s3_bucket,
                                           s3_client, dagster_instance, runs):
    res = resources(warehouse_url, s3_endpoint, s3_bucket)
    first = retention_job.execute_in_process(run_config={"as_of": AS_OF}, instance=dagster_instance, resources=res)
    assert first.success

    assert step_metadata(first, "archive_raw_event_days")["days_archived"] == 2
    assert step_metadata(first, "drop_expired_raw_partitions")["partitions_dropped"] == 1
    assert partition_days(warehouse) == [ARCHIVABLE, RECENT]
    assert s3_keys(s3_client, s3_bucket) == [f"archive/{archive_key(OLD)}", f"archive/{archive_key(ARCHIVABLE)}"]
    assert warehouse.execute("SELECT count(*) FROM analytics_quarantine").fetchone()[0] == 0
    # Old finished runs and their event logs are gone; the recent and the unfinished ones stay.
    remaining = run_ids(dagster_instance)
    assert {runs["recent"], runs["old_but_started"], first.run_id} <= remaining
    assert not {runs["old_success"], runs["old_failure"]} & remaining
    assert dagster_instance.all_logs(runs["old_success"]) == []
    assert dagster_instance.all_logs(runs["recent"]) != []

    second = retention_job.execute_in_process(run_config={"as_of": AS_OF}, instance=dagster_instance, resources=res)
    assert second.success
    assert step_metadata(second, "archive_raw_event_days")["days_archived"] == 0
    assert step_metadata(second, "archive_raw_event_days")["days_unchanged"] == 1
    assert step_metadata(second, "ensure_archive_lifecycle_rule")["status"] == "unchanged"
    assert step_metadata(second, "prune_dagster_runs")["runs_deleted"] == 0
    assert [r["ID"] for r in lifecycle_rules(s3_client, s3_bucket)] == [RULE_ID]  # present once after two runs


def test_an_archive_that_fails_stops_the_drops_but_not_the_rest(analytics_home, warehouse_url, warehouse,
                                                                s3_endpoint, s3_bucket, dagster_instance, tmp_path):
    not_a_directory = tmp_path / "archive"
    not_a_directory.write_text("a file where the archive directory should be")
    result = retention_job.execute_in_process(  # no as_of: the run's clock (frozen at TODAY) decides
        instance=dagster_instance, raise_on_error=False,
        resources=resources(warehouse_url, s3_endpoint, s3_bucket, archive_url=str(not_a_directory)))

    assert not result.success
    failed = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert [e.step_key for e in failed] == ["archive_raw_event_days"]
    assert "2 problem(s)" in failed[0].event_specific_data.error.message
    started = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    assert "drop_expired_raw_partitions" not in started and "delete_expired_quarantine" in started
    assert partition_days(warehouse) == [OLD, ARCHIVABLE, RECENT]  # nothing dropped
    assert step_metadata(result, "delete_expired_quarantine")["rows_deleted"] == 1  # the rest still ran
    assert step_metadata(result, "ensure_archive_lifecycle_rule")["status"] == "not applicable"
    assert step_metadata(result, "delete_expired_rollups")["as_of"] == TODAY.isoformat()


def test_without_as_of_or_a_frozen_clock_the_runs_creation_time_decides(warehouse_url, s3_endpoint, s3_bucket,
                                                                        dagster_instance):
    res = {**resources(warehouse_url, s3_endpoint, s3_bucket), "clock": ClockResource()}
    result = retention_job.execute_in_process(run_config={"dry_run": True}, instance=dagster_instance,
                                              resources=res)
    created = dagster_instance.get_run_record_by_id(result.run_id).create_timestamp
    assert {step_metadata(result, op)["as_of"] for op in ("delete_expired_rollups", "prune_dagster_runs")} == {
        created.isoformat()}


def test_the_schedule_runs_daily_as_of_its_tick():
    tick = datetime(2027, 1, 10, 4, 30, tzinfo=UTC)
    request = retention_schedule(dg.build_schedule_context(scheduled_execution_time=tick))
    assert request.run_key == "retention-2027-01-10"
    assert request.run_config == {"dry_run": False, "as_of": "2027-01-10T04:30:00+00:00"}
    assert dg.validate_run_config(retention_job, request.run_config)
    assert retention_schedule.cron_schedule == "30 4 * * *"



def test_an_as_of_in_the_future_fails_every_op_before_it_acts(analytics_home, warehouse_url, warehouse, s3_endpoint,
                                                              s3_bucket, s3_client, dagster_instance, runs):
    before = (warehouse_snapshot(warehouse), s3_keys(s3_client, s3_bucket), run_ids(dagster_instance))
    res = resources(warehouse_url, s3_endpoint, s3_bucket)
    # Two days ahead: the quarantine row (120 days old) would go either way, but so would data
    # 88-90 days old; nothing at all may be deleted.
    future = (TODAY + timedelta(days=2)).isoformat()
    result = retention_job.execute_in_process(run_config={"as_of": future}, instance=dagster_instance,
                                              resources=res, raise_on_error=False)
    assert not result.success
    failed = {e.step_key: e.event_specific_data.error.message for e in result.all_events
              if e.event_type_value == "STEP_FAILURE"}
    # Every op that started failed; drop_expired_raw_partitions never starts after the archive failed.
    assert set(failed) == {"archive_raw_event_days", "delete_expired_rollups", "delete_expired_quarantine",
                           "expire_export_files", "ensure_archive_lifecycle_rule", "prune_dagster_runs"}
    stated = rf"as_of {re.escape(future)} is (1 day, 23:59:\d\d|2 days, 0:00:00) after the run was created"
    assert all(re.search(stated, message) for message in failed.values()), failed
    after_runs = run_ids(dagster_instance) - {result.run_id}
    assert (warehouse_snapshot(warehouse), s3_keys(s3_client, s3_bucket), after_runs) == before

    # Within the tolerance (a tick created a little early, clock skew): the run goes ahead.
    soon = (TODAY + timedelta(minutes=30)).isoformat()
    dry = retention_job.execute_in_process(run_config={"dry_run": True, "as_of": soon}, instance=dagster_instance,
                                           resources=res)
    assert dry.success
    assert step_metadata(dry, "delete_expired_quarantine")["as_of"] == datetime.fromisoformat(soon).isoformat()
