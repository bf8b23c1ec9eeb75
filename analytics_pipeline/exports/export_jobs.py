"""Ad hoc export jobs: validated requests, their audit trail in ``analytics_export_jobs``,
and at most two running at once.

The limit of two concurrent exports comes from the export contract. Dagster's run queue
enforces it for queued runs (``dagster.yaml``: tag ``analytics/export``, limit 2); the
warehouse enforces it for any launcher with two advisory-lock slots held while a job runs.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg

from analytics_pipeline.exports.usage_csv import ExportGranularity, UnsafeOrganizationIdError, checked_organization_id
from analytics_pipeline.exports.writer import ExportTarget
from analytics_pipeline.warehouse.sql import load_sql

MAX_RANGE = timedelta(days=31)
CONCURRENT_EXPORTS = 2
_SLOT_LOCK_BASE = 7_351_100  # advisory-lock keys 7351100 and 7351101 are the two export slots


class InvalidExportRequest(ValueError):
    """A request that cannot be exported; the message tells the requester what to change."""


def _parse_time(value: str | datetime, name: str) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00")) if "T" in value or " " in value \
                else datetime.fromisoformat(value.strip() + "T00:00:00+00:00")
        except ValueError:
            raise InvalidExportRequest(
                f"{name} {value!r} is not an ISO 8601 time (e.g. 2026-01-01T00:00:00Z)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _moment_text(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d}" if moment.time() == datetime.min.time() else f"{moment:%Y-%m-%dT%H:%M:%SZ}"


def _duration_text(span: timedelta) -> str:
    hours, seconds = divmod(span.seconds, 3600)
    text = f"{span.days} days"
    if hours or seconds:
        text += f" {hours} h" + (f" {seconds // 60} min" if seconds else "")
    return text


def _aligned(moment: datetime, granularity: ExportGranularity) -> bool:
    if moment.minute or moment.second or moment.microsecond:
        return False
    if granularity is ExportGranularity.HOURLY:
        return True
    if moment.hour:
        return False
    return granularity is ExportGranularity.DAILY or moment.day == 1


@dataclass(frozen=True)
class ExportRequest:
    """One validated export request. Build it with :meth:`parse`."""

    organization_id: str
    start: datetime
    end: datetime
    granularity: ExportGranularity
    by_model: bool = True
    initiated_by: str | None = None
    job_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @classmethod
    def parse(cls, *, organization_id: str, start: str | datetime, end: str | datetime, granularity: str = "daily",
              by_model: bool = True, initiated_by: str | None = None,
              job_id: str | uuid.UUID | None = None) -> ExportRequest:
        try:
            org = checked_organization_id(organization_id)
        except UnsafeOrganizationIdError as error:
            raise InvalidExportRequest(str(error)) from None
        try:
            gran = ExportGranularity(granularity)
        except ValueError:
            raise InvalidExportRequest(f"granularity must be hourly, daily or monthly, not {granularity!r}") from None
        start_at, end_at = _parse_time(start, "start"), _parse_time(end, "end")
        if end_at <= start_at:
            raise InvalidExportRequest(f"end ({end_at.isoformat()}) must be after start ({start_at.isoformat()})")
        if end_at - start_at > MAX_RANGE:
            raise InvalidExportRequest(
                f"an export covers at most 31 days; {_moment_text(start_at)} to {_moment_text(end_at)} is "
                f"{_duration_text(end_at - start_at)}: split it into several exports")
        for name, moment in (("start", start_at), ("end", end_at)):
            if not _aligned(moment, gran):
                unit = {"hourly": "an hour", "daily": "a day (00:00Z)", "monthly": "a month (the 1st, 00:00Z)"}
                raise InvalidExportRequest(f"{name} {moment.isoformat()} is not aligned to {unit[gran.value]}")
        try:
            parsed_job_id = uuid.UUID(str(job_id)) if job_id else uuid.uuid4()
        except ValueError:
            raise InvalidExportRequest(f"job_id {job_id!r} is not a UUID") from None
        return cls(org, start_at, end_at, gran, by_model, initiated_by, parsed_job_id)

    @property
    def csv_key(self) -> str:
        return f"adhoc/{self.organization_id}/{self.job_id}/usage_{self.granularity.value}.csv"

    @property
    def manifest_key(self) -> str:
        return self.csv_key.removesuffix(".csv") + ".manifest.json"

    def target(self) -> ExportTarget:
        """What the job writes, and where."""
        return ExportTarget(organization_id=self.organization_id, start=self.start, end=self.end,
                            granularity=self.granularity, by_model=self.by_model, csv_key=self.csv_key,
                            manifest_key=self.manifest_key)


def record_request(conn: psycopg.Connection, request: ExportRequest) -> None:
    """Write the job's row as ``pending`` (idempotent for the same job id)."""
    conn.execute(load_sql("exports/create_export_job"), {
        "job_id": request.job_id, "organization_id": request.organization_id, "range_start": request.start,
        "range_end": request.end, "granularity": request.granularity.value, "by_model": request.by_model,
        "initiated_by": request.initiated_by})


def mark_running(conn: psycopg.Connection, job_id: uuid.UUID, run_id: str | None) -> None:
    conn.execute(load_sql("exports/start_export_job"), {"job_id": job_id, "run_id": run_id})


def mark_succeeded(conn: psycopg.Connection, job_id: uuid.UUID, *, output_key: str, output_uri: str,
                   checksum: str, row_count: int) -> None:
    conn.execute(load_sql("exports/finish_export_job"), {
        "job_id": job_id, "output_key": output_key, "output_uri": output_uri, "checksum": checksum,
        "row_count": row_count})


def mark_failed(conn: psycopg.Connection, job_id: uuid.UUID, error: str) -> None:
    conn.execute(load_sql("exports/fail_export_job"), {"job_id": job_id, "error": error[:2000]})


JOB_COLUMNS = ("job_id", "organization_id", "range_start", "range_end", "granularity", "by_model", "status",
               "created_at", "completed_at", "output_uri", "checksum", "row_count", "initiated_by", "error")


def list_jobs(conn: psycopg.Connection, *, status: str | None = None, organization_id: str | None = None,
              job_id: uuid.UUID | None = None, limit: int = 50) -> list[dict]:
    rows = conn.execute(load_sql("exports/list_export_jobs"), {
        "status": status, "organization_id": organization_id, "job_id": job_id, "limit": limit}).fetchall()
    return [dict(zip(JOB_COLUMNS, row, strict=True)) for row in rows]


class ExportSlot:
    """One of the two export slots, held (a session advisory lock) while an export runs."""

    def __init__(self, conn: psycopg.Connection, *, wait: timedelta = timedelta(minutes=30), poll_seconds: float = 2.0):
        self.conn, self.wait, self.poll_seconds = conn, wait, poll_seconds
        self.slot: int | None = None

    def __enter__(self) -> ExportSlot:
        deadline = time.monotonic() + self.wait.total_seconds()
        while True:
            for slot in range(CONCURRENT_EXPORTS):
                if self.conn.execute("SELECT pg_try_advisory_lock(%s)", (_SLOT_LOCK_BASE + slot,)).fetchone()[0]:
                    self.slot = slot
                    return self
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no export slot free after {self.wait}: {CONCURRENT_EXPORTS} exports are running")
            time.sleep(self.poll_seconds)

    def __exit__(self, *exc) -> None:
        if self.slot is not None:
            self.conn.execute("SELECT pg_advisory_unlock(%s)", (_SLOT_LOCK_BASE + self.slot,))
            self.slot = None
