"""Deleting finance export files past retention; the audit trail stays.

Two kinds of export files live in the exports store:

* ad hoc exports (``export_job``): ``adhoc/<org>/<job_id>/usage_<granularity>.csv`` and its
  ``.manifest.json``, recorded in ``analytics_export_jobs``. After the period the files are
  deleted and a succeeded job becomes ``expired`` (``expired_at`` set; checksum, row count and
  range kept for audit). A failed job's leftovers are deleted too; it stays ``failed``.
  Pending and running jobs are never touched, and each job's row is locked while its files
  go, so a retry starting meanwhile waits.
* monthly exports (``monthly_usage_exports``): ``monthly/YYYY-MM/<org>/usage_daily_YYYY-MM.csv``
  and manifest, with a job row each (initiated by the schedule) that becomes ``expired`` when
  its CSV goes. A file goes when
  its last write is older than the period; a month is written after it ends, so the listing
  stops at the first month that cannot hold such a file.

Finance can regenerate any expired export from the rollups (kept 13 months).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

import psycopg

from analytics_pipeline.retention.policy import Cutoffs, month_start
from analytics_pipeline.retention.report import ActionReport, age_days, iso
from analytics_pipeline.storage.object_store import InvalidKeyError, ObjectStore, check_key
from analytics_pipeline.warehouse.sql import load_sql

MONTHLY_PREFIX = "monthly/"
_MONTHLY_KEY = re.compile(r"^monthly/(\d{4})-(\d{2})/")


def adhoc_job_prefix(organization_id: str, job_id: uuid.UUID) -> str:
    """Where an ad hoc export job writes (``ExportRequest.csv_key`` lives under it); a prefix that
    is not a safe key (an organization id no export would accept) raises ``InvalidKeyError``."""
    return check_key(f"adhoc/{organization_id}/{job_id}/")


def manifest_key_of(csv_key: str) -> str:
    return csv_key.removesuffix(".csv") + ".manifest.json"


def _job_files(store: ObjectStore, organization_id: str | None, job_id: uuid.UUID,
               output_key: str | None) -> list[tuple[str, int]]:
    """(key, size) of what a job left in the store."""
    keys = {output_key, manifest_key_of(output_key)} if output_key else set()
    if organization_id:
        keys |= {obj.key for obj in store.list(adhoc_job_prefix(organization_id, job_id))}
    files = []
    for key in sorted(keys):
        stored = store.head(key)
        if stored is not None:
            files.append((key, stored.size))
    return files


def _expire_adhoc_jobs(conn: psycopg.Connection, store: ObjectStore, cutoffs: Cutoffs, report: ActionReport) -> None:
    jobs = conn.execute(load_sql("retention/expirable_export_jobs"), {"cutoff": cutoffs.exports_before}).fetchall()
    expired = files = size = 0
    oldest: datetime | None = None
    for job_id, organization_id, status, output_key, finished_at in jobs:
        try:
            with conn.transaction():
                locked = conn.execute(load_sql("retention/lock_export_job"), {"job_id": job_id}).fetchone()
                if locked is None or locked[0] != status:
                    continue  # changed since listed (e.g. retried): the next run looks again
                job_files = _job_files(store, organization_id, job_id, output_key)
                if not report.dry_run:
                    for key, _ in job_files:
                        store.delete(key)
                    conn.execute(load_sql("retention/expire_export_job"), {"job_id": job_id})
        except InvalidKeyError as error:  # never written by an export: left alone
            report.problems.append(f"export job {job_id}: {error}")
            continue
        expired += 1
        files += len(job_files)
        size += sum(s for _, s in job_files)
        oldest = finished_at if oldest is None else min(oldest, finished_at)
        report.items.append({
            "export": f"job {job_id}", "organization_id": organization_id, "status": status,
            "action": report.verb("expired" if status == "succeeded" else "files deleted",
                                  "would expire" if status == "succeeded" else "would delete files"),
            "files": len(job_files), "bytes": sum(s for _, s in job_files), "finished_at": iso(finished_at),
            "age_days": age_days(finished_at, cutoffs.now)})
    report.figures.update({"adhoc_jobs_expired": expired, "adhoc_files_deleted": files, "adhoc_bytes_deleted": size,
                           "oldest_adhoc_job_finished": iso(oldest)})


def _expire_monthly_files(conn: psycopg.Connection, store: ObjectStore, cutoffs: Cutoffs,
                          report: ActionReport) -> None:
    # Files of a month are written after it ends: months starting at or after the cutoff's
    # month cannot hold a file written before the cutoff.
    stop_month = month_start(cutoffs.exports_before)
    deleted: dict[str, list[int]] = {}
    deleted_keys: list[str] = []
    oldest: datetime | None = None
    for obj in store.list(MONTHLY_PREFIX):
        match = _MONTHLY_KEY.match(obj.key)
        if match is None:
            continue  # not an export file of ours
        if datetime(int(match[1]), int(match[2]), 1, tzinfo=stop_month.tzinfo) >= stop_month:
            break
        if obj.last_modified >= cutoffs.exports_before:
            continue  # regenerated (restated) recently
        if not report.dry_run:
            store.delete(obj.key)
            deleted_keys.append(obj.key)
        deleted.setdefault(f"{match[1]}-{match[2]}", []).append(obj.size)
        oldest = obj.last_modified if oldest is None else min(oldest, obj.last_modified)
    if deleted_keys:  # their job rows (the export API's audit trail) stay, marked expired
        conn.execute(load_sql("retention/expire_monthly_export_jobs"), {"output_keys": deleted_keys,
                                                                        "now": cutoffs.now})
    for month, sizes in sorted(deleted.items()):
        report.items.append({"export": f"monthly {month}", "action": report.verb("deleted", "would delete"),
                             "files": len(sizes), "bytes": sum(sizes)})
    report.figures.update({
        "monthly_files_deleted": sum(len(s) for s in deleted.values()),
        "monthly_bytes_deleted": sum(sum(s) for s in deleted.values()),
        "oldest_monthly_file_written": iso(oldest),
    })


def expire_export_files(conn: psycopg.Connection, store: ObjectStore, cutoffs: Cutoffs,
                        dry_run: bool = False) -> ActionReport:
    """Delete export files written before ``cutoffs.exports_before`` (see the module docstring)."""
    report = ActionReport("expire_export_files", dry_run)
    _expire_adhoc_jobs(conn, store, cutoffs, report)
    _expire_monthly_files(conn, store, cutoffs, report)
    report.figures["files_written_before"] = cutoffs.exports_before.isoformat()
    return report
