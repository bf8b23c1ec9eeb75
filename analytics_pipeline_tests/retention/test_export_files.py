"""Export files past 90 days deleted from (moto's) S3; job rows kept and marked expired."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from analytics_pipeline.retention.export_files import expire_export_files
from analytics_pipeline.retention.policy import RetentionPolicy
from analytics_pipeline.storage.object_store import S3ObjectStore
from analytics_pipeline_tests.retention.helpers import warehouse_snapshot

# Monthly files are stamped by moto with the wall clock when written, so this module's clocks
# count from the moment it runs (the same outcome on any date): "later" clocks make them old.
TODAY = datetime.now(UTC)
SOON, LATER = TODAY + timedelta(days=30), TODAY + timedelta(days=100)
LAST_MONTH = (TODAY.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


@pytest.fixture
def exports_store(s3_client, s3_bucket):
    return S3ObjectStore(s3_client, s3_bucket, prefix="exports")


def add_job(conn, store, status, finished_days_before_later, *, files=("csv", "manifest")):
    job_id = uuid.uuid4()
    finished = LATER - timedelta(days=finished_days_before_later)
    csv_key = f"adhoc/org-a/{job_id}/usage_daily.csv"
    conn.execute(
        "INSERT INTO analytics_export_jobs (job_id, organization_id, range_start, range_end, granularity, status, "
        "created_at, completed_at, output_key, checksum, row_count) VALUES (%s, 'org-a', '2026-01-01', "
        "'2026-01-31', 'daily', %s, %s, %s, %s, 'sha256:abc', 31)",
        (job_id, status, finished - timedelta(minutes=5), finished if status in ("succeeded", "failed") else None,
         csv_key if status == "succeeded" else None))
    for kind in files:
        store.write(csv_key if kind == "csv" else csv_key.replace(".csv", ".manifest.json"), b"x" * 10)
    return job_id


def jobs(conn):
    return {row[0]: row[1:] for row in conn.execute(
        "SELECT job_id, status, expired_at IS NOT NULL, checksum, row_count FROM analytics_export_jobs")}


def keys(store):
    return sorted(o.key for o in store.list())


@pytest.fixture
def exports(conn, exports_store):
    ids = {
        "old_succeeded": add_job(conn, exports_store, "succeeded", 91),
        "recent_succeeded": add_job(conn, exports_store, "succeeded", 89),
        "old_failed_with_leftover": add_job(conn, exports_store, "failed", 120, files=("csv",)),
        "old_pending": add_job(conn, exports_store, "pending", 300),
        "old_running": add_job(conn, exports_store, "running", 300),
    }
    for org in ("org-a", "org-b"):
        exports_store.write(f"monthly/{LAST_MONTH}/{org}/usage_daily_{LAST_MONTH}.csv", b"csv")
        exports_store.write(f"monthly/{LAST_MONTH}/{org}/usage_daily_{LAST_MONTH}.manifest.json", b"{}")
    return ids


def test_old_export_files_go_and_their_jobs_are_kept_as_expired(conn, exports_store, exports):
    before = keys(exports_store)
    report = expire_export_files(conn, exports_store, RetentionPolicy().cutoffs(LATER))

    assert report.figures["adhoc_jobs_expired"] == 2  # the old succeeded one and the failed one's leftovers
    assert report.figures["adhoc_files_deleted"] == 3 and report.figures["monthly_files_deleted"] == 4
    status = jobs(conn)
    assert status[exports["old_succeeded"]] == ("expired", True, "sha256:abc", 31)  # audit trail kept
    assert status[exports["old_failed_with_leftover"]] == ("failed", True, "sha256:abc", 31)
    assert status[exports["recent_succeeded"]] == ("succeeded", False, "sha256:abc", 31)
    assert status[exports["old_pending"]][:2] == ("pending", False)
    assert status[exports["old_running"]][:2] == ("running", False)
    remaining = keys(exports_store)
    assert not any(str(exports["old_succeeded"]) in k or str(exports["old_failed_with_leftover"]) in k
                   for k in remaining)
    assert not any(k.startswith("monthly/") for k in remaining)
    # Files of pending/running jobs (a job still writing) and of the recent job are untouched.
    assert remaining == [k for k in before if any(str(exports[j]) in k for j in
                                                   ("recent_succeeded", "old_pending", "old_running"))]
    again = expire_export_files(conn, exports_store, RetentionPolicy().cutoffs(LATER))
    assert again.figures["adhoc_jobs_expired"] == again.figures["monthly_files_deleted"] == 0


def test_files_within_ninety_days_stay(conn, exports_store, exports):
    before = keys(exports_store)
    report = expire_export_files(conn, exports_store, RetentionPolicy().cutoffs(SOON))
    assert report.figures["adhoc_jobs_expired"] == report.figures["monthly_files_deleted"] == 0
    assert keys(exports_store) == before


def test_a_dry_run_reports_the_files_and_deletes_nothing(conn, exports_store, exports):
    before, rows = keys(exports_store), warehouse_snapshot(conn)
    report = expire_export_files(conn, exports_store, RetentionPolicy().cutoffs(LATER), dry_run=True)
    assert report.figures["adhoc_files_deleted"] == 3 and report.figures["monthly_files_deleted"] == 4
    assert {i["action"] for i in report.items} == {"would expire", "would delete files", "would delete"}
    assert keys(exports_store) == before and warehouse_snapshot(conn) == rows


def test_a_job_row_with_keys_no_export_writes_is_reported_and_left_alone(conn, exports_store):
    job_id = uuid.uuid4()
    conn.execute(
        "INSERT INTO analytics_export_jobs (job_id, organization_id, range_start, range_end, granularity, status, "
        "created_at, completed_at, output_key) VALUES (%s, '../../etc', '2026-01-01', '2026-01-31', 'daily', "
        "'succeeded', %s, %s, '../../etc/passwd.csv')", (job_id, *[LATER - timedelta(days=200)] * 2))
    report = expire_export_files(conn, exports_store, RetentionPolicy().cutoffs(LATER))
    assert report.figures["adhoc_jobs_expired"] == 0 and str(job_id) in report.problems[0]
    assert jobs(conn)[job_id][:2] == ("succeeded", False)
