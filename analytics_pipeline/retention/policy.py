"""The retention periods and the cutoffs they give at a moment ``now``.

Every decision of the retention job is made against an injected ``now`` (the schedule's
tick, or ``as_of`` in the run config), so tests and reruns decide exactly alike. Times the
warehouse records (archived_at, dropped_at, expired_at) are real wall-clock times.

``as_of`` may lie in the past (a rerun decides as the original run did) but not in the future:
a later clock moves every cutoff forward and deletes, for good, data still within its period.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta

from analytics_pipeline.settings import Settings

#: How far ``as_of`` may be ahead of the run's creation time (clock skew, a tick created early).
AS_OF_TOLERANCE = timedelta(hours=1)


class InvalidRetentionPolicy(ValueError):
    """Periods that contradict each other (e.g. dropping raw events before archiving them)."""


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of data is kept. Defaults (the settings') are the seed documents' periods."""

    raw_archive_after_days: int = Settings.raw_archive_after_days  # raw days are archived as Parquet after this
    raw_retention_days: int = Settings.raw_retention_days  # ... and their partitions dropped (once archived)
    rollup_retention_months: int = Settings.rollup_retention_months
    quarantine_retention_days: int = Settings.quarantine_retention_days
    export_retention_days: int = Settings.export_retention_days  # export files; the job rows stay, expired
    archive_glacier_after_days: int = Settings.archive_glacier_after_days  # S3 lifecycle of the archive prefix
    archive_expire_after_days: int = Settings.archive_expire_after_days  # 7 years
    dagster_run_retention_days: int = Settings.dagster_run_retention_days

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, int) or value < 1:
                raise InvalidRetentionPolicy(f"{field.name} must be a whole number of at least 1, not {value!r}")
        if self.raw_retention_days <= self.raw_archive_after_days:
            raise InvalidRetentionPolicy(
                f"raw_retention_days ({self.raw_retention_days}) must exceed raw_archive_after_days "
                f"({self.raw_archive_after_days}): a day is archived before its partition is dropped")
        if self.archive_expire_after_days <= self.archive_glacier_after_days:
            raise InvalidRetentionPolicy(
                f"archive_expire_after_days ({self.archive_expire_after_days}) must exceed "
                f"archive_glacier_after_days ({self.archive_glacier_after_days})")

    def cutoffs(self, now: datetime) -> Cutoffs:
        """What is due at ``now`` (timezone-aware; converted to UTC)."""
        now = require_aware(now)
        return Cutoffs(
            now=now,
            archive_before=now - timedelta(days=self.raw_archive_after_days),
            drop_before=now - timedelta(days=self.raw_retention_days),
            rollups_before=add_months(month_start(now), -self.rollup_retention_months),
            quarantine_before=now - timedelta(days=self.quarantine_retention_days),
            exports_before=now - timedelta(days=self.export_retention_days),
            dagster_runs_before=now - timedelta(days=self.dagster_run_retention_days),
        )


@dataclass(frozen=True)
class Cutoffs:
    """Moments before which data is due; all UTC.

    A raw event *day* is due once it has ended before the cutoff: at 2027-01-10T03:00 with
    7 days, days up to 2027-01-02 are archived (2027-01-03 still has events less than 7
    days old). Rollups are deleted by whole months: at any time in January 2027 with 13
    months, buckets before 2025-12-01 go, so finance always has 13 complete months.
    """

    now: datetime
    archive_before: datetime
    drop_before: datetime
    rollups_before: datetime
    quarantine_before: datetime
    exports_before: datetime
    dagster_runs_before: datetime

    @property
    def last_archivable_day(self) -> date:
        return last_day_ended_by(self.archive_before)

    @property
    def last_droppable_day(self) -> date:
        return last_day_ended_by(self.drop_before)


def require_aware(moment: datetime) -> datetime:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValueError(f"retention needs a timezone-aware moment, not {moment!r}")
    return moment.astimezone(UTC)


def last_day_ended_by(moment: datetime) -> date:
    """The last UTC day whose end (next midnight) is at or before ``moment``."""
    return require_aware(moment).date() - timedelta(days=1)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a UTC day."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def month_start(moment: datetime) -> datetime:
    moment = require_aware(moment)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def add_months(first_of_month: datetime, months: int) -> datetime:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return first_of_month.replace(year=index // 12, month=index % 12 + 1)


def parse_as_of(value: str) -> datetime:
    """An ISO 8601 moment (``2027-01-10``, ``2027-01-10T04:00:00Z``); UTC when no zone is given."""
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise ValueError(f"as_of {value!r} is not an ISO 8601 date or time (e.g. 2027-01-10T04:00:00Z)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def require_not_ahead(as_of: datetime, created_at: datetime, tolerance: timedelta = AS_OF_TOLERANCE) -> datetime:
    """``as_of`` (UTC), unless it is later than ``created_at`` (the run's creation) plus ``tolerance``."""
    as_of, created_at = require_aware(as_of), require_aware(created_at)
    if as_of > created_at + tolerance:
        raise ValueError(
            f"as_of {as_of.isoformat()} is {timedelta(seconds=round((as_of - created_at).total_seconds()))} "
            "after the run was created "
            f"({created_at.isoformat()}; at most {tolerance} allowed): a future as_of moves every retention "
            "cutoff forward and would delete, for good, data still within its period. Give a moment in the "
            "past, or no as_of (the run's creation time).")
    return as_of
