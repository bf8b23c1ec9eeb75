"""Ad hoc export jobs: validated requests, their audit trail in ``analytics_export_jobs``,
and at most two running at once.

The limit of two concurrent exports comes from the export contract. Dagster's run queue
enforces it for queued runs (``dagster.yaml``: tag ``analytics/export``, limit 2); the
warehouse enforces it for any launcher with two advisory-lock slots held while a job runs.
"""

from __future__ import annotations

import functools
import hashlib
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

import psycopg
from psycopg import sql

from analytics_pipeline.exports.usage_csv import ExportGranularity
from analytics_pipeline.exports.writer import ExportTarget
from analytics_pipeline.identity import UnsafeOrganizationIdError, checked_organization_id
from analytics_pipeline.warehouse.sql import compose_sql, load_sql

MAX_RANGE = timedelta(days=31)
ONE_SECOND = timedelta(seconds=1)
#: The times a request may name (its start and its end, inclusive bounds), for the export API, the
#: CLI and the portal alike: far past and beyond any usage a billing warehouse holds, and far from
#: the ends of Python's calendar (year 1, year 9999), where adding a second or an offset overflows.
EARLIEST_TIME = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(3000, 1, 1, tzinfo=UTC)
CONCURRENT_EXPORTS = 2
_SLOT_LOCK_BASE = 7_351_100  # advisory-lock keys 7351100 and 7351101 are the two export slots


class InvalidExportRequest(ValueError):
    """A request that cannot be exported; the message tells the requester what to change, the
    code (one per reason, see :data:`INVALID_REQUEST_CODES`) tells a program which rule it broke."""

    def __init__(self, message: str, code: str = "invalid_request") -> None:
        super().__init__(message)
        self.code = code


#: Each reason an export request is refused, by its code (the API's 422 error codes).
INVALID_REQUEST_CODES = {
    "invalid_organization_id": "the organization id is not [A-Za-z0-9][A-Za-z0-9_.:-]{0,127}",
    "invalid_granularity": "granularity is not hourly, daily or monthly",
    "invalid_time": "start or end is not an ISO 8601 time from 2000-01-01T00:00:00Z to 3000-01-01T00:00:00Z",
    "end_not_after_start": "end is not after start",
    "range_too_long": "the range covers more than 31 days",
    "unaligned_time": "start or end is not on a boundary of the granularity",
    "invalid_job_id": "the job id is not a UUID",
}


def accepted_time(moment: datetime, name: str) -> datetime:
    """``moment`` in UTC (naive: read as UTC) when it is within :data:`EARLIEST_TIME` ..
    :data:`LATEST_TIME` (both included): the one check of the times every request names.
    InvalidExportRequest ``invalid_time`` otherwise."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:  # an offset that pushes year 1 or year 9999 off the calendar
        utc = None
    if utc is None or not EARLIEST_TIME <= utc <= LATEST_TIME:
        raise InvalidExportRequest(f"{name} {moment.isoformat()} is outside the times this API accepts, "
                                   f"{EARLIEST_TIME:%Y-%m-%dT%H:%M:%SZ} to {LATEST_TIME:%Y-%m-%dT%H:%M:%SZ}",
                                   "invalid_time")
    return utc


def accepted_day(day: date, name: str) -> date:
    """``day`` when the whole of it is within the accepted times (:func:`accepted_time`): from
    2000-01-01 to 2999-12-31. InvalidExportRequest ``invalid_time`` otherwise."""
    if not EARLIEST_TIME.date() <= day < LATEST_TIME.date():
        raise InvalidExportRequest(f"{name} {day.isoformat()} is outside the days this API accepts, "
                                   f"{EARLIEST_TIME:%Y-%m-%d} to {LATEST_TIME.date() - timedelta(days=1)}",
                                   "invalid_time")
    return day


def _parse_time(value: str | datetime, name: str) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00")) if "T" in value or " " in value \
                else datetime.fromisoformat(value.strip() + "T00:00:00+00:00")
        except ValueError:
            raise InvalidExportRequest(
                f"{name} {value[:64]!r} is not an ISO 8601 time (e.g. 2026-01-01T00:00:00Z)", "invalid_time") from None
    return accepted_time(parsed, name)


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


def read_end(end: datetime, granularity: ExportGranularity) -> datetime:
    """How an end is read: exclusive, except that an end 1 second before a boundary of the
    granularity (the inclusive ``2024-01-31T23:59:59Z`` of the export contract) is read as that
    boundary (``2024-02-01T00:00:00Z``). Both forms then mean the same month."""
    if not _aligned(end, granularity) and _aligned(end + ONE_SECOND, granularity):
        return end + ONE_SECOND
    return end


@dataclass(frozen=True)
class ExportRequest:
    """One validated export request. Build it with :meth:`parse`. ``end`` is exclusive;
    ``requested_end`` is the end as written when it was the inclusive form."""

    organization_id: str
    start: datetime
    end: datetime
    granularity: ExportGranularity
    by_model: bool = True
    initiated_by: str | None = None
    job_id: uuid.UUID = field(default_factory=uuid.uuid4)
    requested_end: datetime | None = None

    @classmethod
    def parse(cls, *, organization_id: str, start: str | datetime, end: str | datetime, granularity: str = "daily",
              by_model: bool = True, initiated_by: str | None = None,
              job_id: str | uuid.UUID | None = None) -> ExportRequest:
        try:
            org = checked_organization_id(organization_id)
        except UnsafeOrganizationIdError as error:
            raise InvalidExportRequest(str(error), "invalid_organization_id") from None
        try:
            gran = ExportGranularity(granularity)
        except ValueError:
            raise InvalidExportRequest(f"granularity must be hourly, daily or monthly, not {granularity!r}",
                                       "invalid_granularity") from None
        start_at, written_end = _parse_time(start, "start"), _parse_time(end, "end")
        end_at = read_end(written_end, gran)
        if end_at <= start_at:
            raise InvalidExportRequest(f"end ({written_end.isoformat()}) must be after start ({start_at.isoformat()})",
                                       "end_not_after_start")
        if end_at - start_at > MAX_RANGE:
            raise InvalidExportRequest(
                f"an export covers at most 31 days; {_moment_text(start_at)} to {_moment_text(end_at)} is "
                f"{_duration_text(end_at - start_at)}: split it into several exports", "range_too_long")
        for name, moment in (("start", start_at), ("end", end_at)):
            if not _aligned(moment, gran):
                unit = {"hourly": "an hour", "daily": "a day (00:00Z)", "monthly": "a month (the 1st, 00:00Z)"}
                raise InvalidExportRequest(f"{name} {moment.isoformat()} is not aligned to {unit[gran.value]}",
                                           "unaligned_time")
        try:
            parsed_job_id = uuid.UUID(str(job_id)) if job_id else uuid.uuid4()
        except ValueError:
            raise InvalidExportRequest(f"job_id {job_id!r} is not a UUID", "invalid_job_id") from None
        return cls(org, start_at, end_at, gran, by_model, initiated_by, parsed_job_id,
                   written_end if written_end != end_at else None)

    @property
    def fingerprint(self) -> str:
        """What the request asks for, as a digest: a retried POST with the same idempotency key must
        carry the same one (both forms of an end give the same fingerprint)."""
        text = "|".join((self.organization_id, self.start.isoformat(), self.end.isoformat(), self.granularity.value,
                         str(self.by_model)))
        return hashlib.sha256(text.encode()).hexdigest()

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


#: The columns of a job row, in the order the job queries select them (``{job_columns}``).
JOB_COLUMNS = ("job_id", "organization_id", "range_start", "range_end", "granularity", "by_model", "status",
               "created_at", "completed_at", "output_uri", "checksum", "row_count", "initiated_by", "error",
               "started_at", "run_id", "output_key", "expired_at", "requested_end", "idempotency_key",
               "request_fingerprint", "api_key_id")
ACTIVE_STATUSES = ("pending", "running")
JOB_STATUSES = ("pending", "running", "succeeded", "failed", "expired")
_ORG_LOCK_CLASS = 7_351_200  # advisory-lock class of the per-organization job creation lock


#: The warning of a job whose range held no usage of its organization.
EMPTY_RANGE_WARNING = ("no usage in this range: the CSV holds the header only (check the organization and the "
                       "dates)")


class ExportJob(NamedTuple):
    """One row of ``analytics_export_jobs``: a job and where it stands (a named tuple: a page of
    jobs is built ten times faster than as a frozen dataclass)."""

    job_id: uuid.UUID
    organization_id: str
    range_start: datetime
    range_end: datetime
    granularity: str
    by_model: bool
    status: str
    created_at: datetime
    completed_at: datetime | None
    output_uri: str | None
    checksum: str | None
    row_count: int | None
    initiated_by: str | None
    error: str | None
    started_at: datetime | None
    run_id: str | None
    output_key: str | None
    expired_at: datetime | None
    requested_end: datetime | None
    idempotency_key: str | None
    request_fingerprint: str | None
    api_key_id: str | None

    def as_dict(self) -> dict:
        return self._asdict()

    @property
    def download_name(self) -> str:
        """The file name a person saves the CSV under: what it holds, whose, and its range with both
        ends included (``usage_daily_<org>_2024-01-01_2024-01-31.csv``)."""
        if self.granularity == "hourly":
            first, last = f"{self.range_start:%Y-%m-%dT%H}", f"{self.range_end - timedelta(hours=1):%Y-%m-%dT%H}"
        else:
            first, last = f"{self.range_start:%Y-%m-%d}", f"{self.range_end - timedelta(days=1):%Y-%m-%d}"
        models = "" if self.by_model else "_all_models"
        return f"usage_{self.granularity}{models}_{self.organization_id}_{first}_{last}.csv"

    @property
    def warning(self) -> str | None:
        """Why a finished job deserves a second look: a range without usage gives a CSV of its header
        only, which is said, never left silent."""
        if self.status in ("succeeded", "expired") and self.row_count == 0:
            return EMPTY_RANGE_WARNING
        return None

    def request(self) -> ExportRequest:
        """The export this job stands for (to run it)."""
        return ExportRequest(self.organization_id, self.range_start, self.range_end,
                             ExportGranularity(self.granularity), self.by_model, self.initiated_by, self.job_id,
                             self.requested_end)


def _job_sql(name: str, **parts: sql.Composable) -> str:
    """A job query with its column list; rendered once (the API runs these on every request)."""
    return compose_sql(name, job_columns=sql.SQL(", ").join(map(sql.Identifier, JOB_COLUMNS)), **parts).as_string()


@functools.cache
def _job_query(name: str) -> str:
    return _job_sql(name)


def _jobs(cursor) -> list[ExportJob]:
    return list(map(ExportJob._make, cursor.fetchall()))


def record_request(conn: psycopg.Connection, request: ExportRequest, *, created_at: datetime | None = None,
                   idempotency_key: str | None = None, api_key_id: str | None = None) -> ExportJob | None:
    """Write the job's row as ``pending`` (idempotent for the same job id); returns the new row,
    or None when a row with that job id (or that organization's idempotency key) already exists."""
    rows = conn.execute(_job_query("exports/create_export_job"), {
        "job_id": request.job_id, "organization_id": request.organization_id, "range_start": request.start,
        "range_end": request.end, "requested_end": request.requested_end,
        "granularity": request.granularity.value, "by_model": request.by_model,
        "initiated_by": request.initiated_by, "created_at": created_at, "idempotency_key": idempotency_key,
        "request_fingerprint": request.fingerprint, "api_key_id": api_key_id})
    created = _jobs(rows)
    return created[0] if created else None


class TooManyActiveJobs(Exception):
    """The organization already has the most pending or running jobs it may have."""

    def __init__(self, organization_id: str, active: int, limit: int) -> None:
        self.organization_id, self.active, self.limit = organization_id, active, limit
        super().__init__(f"organization {organization_id} already has {active} export jobs pending or running "
                         f"(at most {limit}); retry once one has finished")


class IdempotencyKeyReused(Exception):
    """An idempotency key sent again with a different request."""

    def __init__(self, job: ExportJob) -> None:
        self.job = job
        super().__init__(f"this Idempotency-Key was already used for export job {job.job_id}, a different request; "
                         "use a new key for a new request")


@dataclass(frozen=True)
class CreatedJob:
    job: ExportJob
    created: bool  # False: the idempotent replay of an earlier request


def create_job(conn: psycopg.Connection, request: ExportRequest, *, created_at: datetime, max_active: int,
               idempotency_key: str | None = None, api_key_id: str | None = None) -> CreatedJob:
    """Create a ``pending`` job for ``request`` in one transaction, serialized per organization:
    a repeated idempotency key returns the job it made (or raises :class:`IdempotencyKeyReused`
    for a different request); past ``max_active`` pending or running jobs it raises
    :class:`TooManyActiveJobs`. The Dagster sensor takes it from there."""
    org = request.organization_id
    with conn.transaction():
        conn.execute(load_sql("exports/lock_organization_jobs"), {"lock_class": _ORG_LOCK_CLASS,
                                                                  "organization_id": org})
        if idempotency_key is not None:
            earlier = _jobs(conn.execute(_job_query("exports/find_idempotent_export_job"),
                                         {"organization_id": org, "idempotency_key": idempotency_key}))
            if earlier:
                if earlier[0].request_fingerprint != request.fingerprint:
                    raise IdempotencyKeyReused(earlier[0])
                return CreatedJob(earlier[0], created=False)
        active = conn.execute(load_sql("exports/count_active_export_jobs"), {"organization_id": org}).fetchone()[0]
        if active >= max_active:
            raise TooManyActiveJobs(org, active, max_active)
        job = record_request(conn, request, created_at=created_at, idempotency_key=idempotency_key,
                             api_key_id=api_key_id)
        if job is None:  # the same job id was recorded before: a replay
            return CreatedJob(get_job(conn, request.job_id), created=False)
        return CreatedJob(job, created=True)


def get_job(conn: psycopg.Connection, job_id: uuid.UUID, organization_id: str | None = None) -> ExportJob | None:
    """The job, or None; with ``organization_id`` only that organization's job (another's is None)."""
    found = _jobs(conn.execute(_job_query("exports/get_export_job"),
                               {"job_id": job_id, "organization_id": organization_id}))
    return found[0] if found else None


async def get_job_async(conn: psycopg.AsyncConnection, job_id: uuid.UUID,
                        organization_id: str | None = None) -> ExportJob | None:
    """:func:`get_job` on an asyncio connection (the API's read path: no thread hop per request)."""
    cursor = await conn.execute(_job_query("exports/get_export_job"),
                                {"job_id": job_id, "organization_id": organization_id})
    row = await cursor.fetchone()
    return ExportJob._make(row) if row else None


def _page_query(organization_id: str, status: str | None, limit: int,
                before: tuple[datetime, uuid.UUID] | None) -> tuple[str, dict]:
    params = {"organization_id": organization_id, "status": status, "limit": limit,
              "before_created_at": before[0] if before else None, "before_job_id": before[1] if before else None}
    return _page_sql(bool(status), bool(before)), params


def page_jobs(conn: psycopg.Connection, organization_id: str, *, status: str | None = None, limit: int = 50,
              before: tuple[datetime, uuid.UUID] | None = None) -> list[ExportJob]:
    """One page of an organization's jobs, newest first: ordered by (created_at, job_id) descending
    and, with ``before``, strictly after that position (keyset pagination: rows inserted meanwhile
    never shift a page, so a page never repeats or skips a job)."""
    return _jobs(conn.execute(*_page_query(organization_id, status, limit, before)))


async def page_jobs_async(conn: psycopg.AsyncConnection, organization_id: str, *, status: str | None = None,
                          limit: int = 50, before: tuple[datetime, uuid.UUID] | None = None) -> list[ExportJob]:
    """:func:`page_jobs` on an asyncio connection."""
    cursor = await conn.execute(*_page_query(organization_id, status, limit, before))
    return list(map(ExportJob._make, await cursor.fetchall()))


@functools.cache
def _page_sql(with_status: bool, with_before: bool) -> str:
    return _job_sql(
        "exports/page_export_jobs",
        status_filter=sql.SQL("AND status = %(status)s") if with_status else sql.SQL(""),
        before_filter=(sql.SQL("AND (created_at, job_id) < (%(before_created_at)s, %(before_job_id)s)")
                       if with_before else sql.SQL("")))


def pending_jobs(conn: psycopg.Connection, limit: int = 100) -> list[ExportJob]:
    """Pending jobs, oldest first (what the sensor launches)."""
    return _jobs(conn.execute(_job_query("exports/pending_export_jobs"), {"limit": limit}))


def running_jobs(conn: psycopg.Connection, limit: int = 100) -> list[ExportJob]:
    """Running jobs, oldest first (the sensor checks their runs still go on)."""
    return _jobs(conn.execute(_job_query("exports/running_export_jobs"), {"limit": limit}))


@dataclass(frozen=True)
class StuckJobs:
    """Jobs pending longer than they should be without a run having started them."""

    count: int
    oldest_job_id: uuid.UUID | None
    oldest_created_at: datetime | None
    pending_for: timedelta

    def reason(self, now: datetime) -> str | None:
        if not self.count:
            return None
        minutes = int((now - self.oldest_created_at).total_seconds() // 60)
        return (f"{self.count} export job(s) pending for more than {int(self.pending_for.total_seconds() // 60)} "
                f"minutes without a run (the oldest, {self.oldest_job_id}, for {minutes} minutes): no Dagster daemon "
                "seems to be running export_request_sensor; start one with `analytics-pipeline ui` or "
                "`dagster-daemon run`")


STUCK_AFTER = timedelta(minutes=15)


def stuck_jobs(conn: psycopg.Connection, now: datetime, pending_for: timedelta = STUCK_AFTER) -> StuckJobs:
    """Jobs pending since before ``now - pending_for`` that no run has started."""
    count, job_id, created = conn.execute(load_sql("exports/stuck_export_jobs"),
                                          {"cutoff": now - pending_for}).fetchone()
    return StuckJobs(count, job_id, created, pending_for)


def mark_running(conn: psycopg.Connection, job_id: uuid.UUID, run_id: str | None, *,
                 at: datetime | None = None) -> None:
    conn.execute(load_sql("exports/start_export_job"), {"job_id": job_id, "run_id": run_id, "at": at})


def mark_succeeded(conn: psycopg.Connection, job_id: uuid.UUID, *, output_key: str, output_uri: str,
                   checksum: str, row_count: int, at: datetime | None = None) -> None:
    """``at``: when it completed (the run's clock; downloads are valid 24 h from then)."""
    conn.execute(load_sql("exports/finish_export_job"), {
        "job_id": job_id, "output_key": output_key, "output_uri": output_uri, "checksum": checksum,
        "row_count": row_count, "at": at})


def mark_failed(conn: psycopg.Connection, job_id: uuid.UUID, error: str, *, at: datetime | None = None) -> None:
    conn.execute(load_sql("exports/fail_export_job"), {"job_id": job_id, "error": error[:2000], "at": at})


def record_scheduled_export(conn: psycopg.Connection, request: ExportRequest, *, output_key: str, output_uri: str,
                            checksum: str, row_count: int, at: datetime, run_id: str | None) -> None:
    """The job row of an export a schedule (not a requester) made, as ``succeeded``: one per
    organization and range (its job id is derived from them), refreshed when it is made again."""
    conn.execute(load_sql("exports/upsert_scheduled_export_job"), {
        "job_id": request.job_id, "organization_id": request.organization_id, "range_start": request.start,
        "range_end": request.end, "granularity": request.granularity.value, "by_model": request.by_model,
        "initiated_by": request.initiated_by, "output_key": output_key, "output_uri": output_uri,
        "checksum": checksum, "row_count": row_count, "at": at, "run_id": run_id})


def scheduled_job_id(organization_id: str, start: datetime, granularity: ExportGranularity) -> uuid.UUID:
    """The job id of a scheduled export: the same organization and period give the same job."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"analytics-export/scheduled/{granularity.value}/{organization_id}/"
                                          f"{start.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}")


def list_jobs(conn: psycopg.Connection, *, status: str | None = None, organization_id: str | None = None,
              job_id: uuid.UUID | None = None, limit: int = 50) -> list[dict]:
    """Jobs as dicts (newest first), for the command line and tests."""
    rows = conn.execute(_job_query("exports/list_export_jobs"), {
        "status": status, "organization_id": organization_id, "job_id": job_id, "limit": limit})
    return [job.as_dict() for job in _jobs(rows)]


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


def failure_message(error: BaseException, run_id: str | None) -> str:
    """What a failed job's ``error`` says: one sentence a person understands (the traceback stays
    in the run's logs, which the sentence points at)."""
    where = f"the logs of run {run_id}" if run_id else "the run's logs"
    response = getattr(error, "response", None)
    if isinstance(error, InvalidExportRequest):
        return f"the export request is invalid: {error}"
    if isinstance(error, TimeoutError):
        return f"{error}, so the export did not start; request it again later"
    if isinstance(response, dict) and isinstance(response.get("Error"), dict):  # botocore's ClientError
        code = response["Error"].get("Code", "error")
        return f"the export could not be written to object storage ({code}); details are in {where}"
    if isinstance(error, psycopg.OperationalError):
        return f"the warehouse could not be reached during the export; details are in {where}"
    if type(error).__name__ == "ExportDoesNotReconcile":
        return str(error)
    return f"the export failed ({type(error).__name__}); details are in {where}"
