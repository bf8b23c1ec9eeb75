"""Jobs written straight into the warehouse (and their files into the local exports store)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from analytics_pipeline.exports.export_jobs import ExportRequest, mark_running, mark_succeeded, record_request
from analytics_pipeline.storage.object_store import LocalDirectoryStore
from analytics_pipeline.warehouse.database import connect

JOBS = "/analytics/v1/orgs/{org}/exports"


def add_job(api, org: str, *, status: str = "pending", content: bytes = b"bucket_start\n",
            created_at: datetime | None = None, completed_at: datetime | None = None) -> uuid.UUID:
    """A job of ``org`` in ``status`` (succeeded: with its CSV in the local store)."""
    request = ExportRequest.parse(organization_id=org, start="2024-01-01", end="2024-01-02", initiated_by="tests")
    with connect(api.database_url, autocommit=True) as conn:
        record_request(conn, request, created_at=created_at or api.clock.now)
        if status in ("running", "succeeded"):
            mark_running(conn, request.job_id, "run-1", at=completed_at or api.clock.now)
        if status == "succeeded":
            store = LocalDirectoryStore(api.settings.exports_url)
            store.write(request.csv_key, content)
            mark_succeeded(conn, request.job_id, output_key=request.csv_key,
                           output_uri=store.object_url(request.csv_key),
                           checksum="sha256:" + hashlib.sha256(content).hexdigest(), row_count=1,
                           at=completed_at or api.clock.now)
        if status in ("failed", "expired"):
            conn.execute("UPDATE analytics_export_jobs SET status = %s, error = 'it broke', expired_at = "
                         "CASE WHEN %s = 'expired' THEN now() END, completed_at = now() WHERE job_id = %s",
                         (status, status, request.job_id))
    return request.job_id


def create_body(start: str = "2024-01-01T00:00:00Z", end: str = "2024-01-31T23:59:59Z", **extra) -> dict:
    return {"timeRange": {"start": start, "end": end}, "granularity": "daily", **extra}
