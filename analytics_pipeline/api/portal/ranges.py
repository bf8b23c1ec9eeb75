"""The ranges pages show: whole UTC days, first to last inclusive (what a person types in a date
field), or a calendar month; validated into ``[start, end)`` with the reason when refused. Days
are those the API accepts (:func:`accepted_day`: 2000-01-01 to 2999-12-31), so no range, month
or neighbouring month runs off the calendar."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from analytics_pipeline.api.errors import ApiError
from analytics_pipeline.exports.export_jobs import EARLIEST_TIME, LATEST_TIME, InvalidExportRequest, accepted_day

MAX_DAILY_DAYS = 366
MAX_HOURLY_DAYS = 31
DEFAULT_DAYS = 30
FIRST_DAY, LAST_DAY = EARLIEST_TIME.date(), LATEST_TIME.date() - timedelta(days=1)


def end_of_today(now: datetime) -> datetime:
    """The UTC midnight after ``now``'s day: the exclusive end of "up to and including today"."""
    return datetime.combine(now.date() + timedelta(days=1), time(), UTC)


@dataclass(frozen=True)
class DayRange:
    first: date
    last: date  # inclusive

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), UTC)

    @property
    def end(self) -> datetime:
        """Exclusive: midnight after the last day."""
        return datetime.combine(self.last + timedelta(days=1), time(), UTC)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def buckets(self, hourly: bool) -> list[datetime]:
        """Every bucket start of the range (hours or days), so a chart shows the empty ones as 0."""
        step = timedelta(hours=1) if hourly else timedelta(days=1)
        moments, moment = [], self.start
        while moment < self.end:
            moments.append(moment)
            moment += step
        return moments


def parse_day(text: str, name: str) -> date:
    """The day ``text`` names (YYYY-MM-DD): ApiError 422 ``invalid_date`` when it names none,
    ``invalid_time`` for a day outside the accepted ones."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ApiError(422, "invalid_date", f"{name} {text[:40]!r} is not a date (YYYY-MM-DD)") from None
    return _accepted(day, name)


def _accepted(day: date, name: str) -> date:
    try:
        return accepted_day(day, name)
    except InvalidExportRequest as error:
        raise ApiError(422, error.code, str(error)) from None


def day_range(start: str | None, end: str | None, *, default_last: date, max_days: int = MAX_DAILY_DAYS,
              default_days: int = DEFAULT_DAYS) -> DayRange:
    """``start``..``end`` (both days included); either missing: the ``default_days`` ending on
    ``default_last`` (or beginning on ``start``). ApiError 422 for a bad date, an end before the
    start, or more than ``max_days``."""
    last = parse_day(end, "end") if end else None
    first = parse_day(start, "start") if start else None
    # A default end or start stays within the accepted days.
    if last is None:
        last = min(first + timedelta(days=default_days - 1), LAST_DAY) if first else _accepted(default_last, "end")
    if first is None:
        first = max(last - timedelta(days=default_days - 1), FIRST_DAY)
    if last < first:
        raise ApiError(422, "end_before_start", f"the end ({last}) is before the start ({first})")
    if (last - first).days + 1 > max_days:
        raise ApiError(422, "range_too_long", f"a range of this page covers at most {max_days} days; "
                                              f"{first} to {last} is {(last - first).days + 1}")
    return DayRange(first, last)


@dataclass(frozen=True)
class Month:
    first: date

    @property
    def last(self) -> date:
        return self.first.replace(day=calendar.monthrange(self.first.year, self.first.month)[1])

    @property
    def days(self) -> DayRange:
        return DayRange(self.first, self.last)

    @property
    def label(self) -> str:
        return f"{self.first:%Y-%m}"

    def previous(self) -> Month:
        return Month((self.first - timedelta(days=1)).replace(day=1))

    def next(self) -> Month:
        return Month(self.last + timedelta(days=1))


def month(text: str | None, *, default: date) -> Month:
    """``YYYY-MM``, or the month of ``default``; ApiError 422 otherwise (``invalid_month``, or
    ``invalid_time`` for a month outside the accepted days)."""
    if not text:
        return Month(_accepted(default, "month").replace(day=1))
    try:
        first = date.fromisoformat(text.strip() + "-01")
    except ValueError:
        raise ApiError(422, "invalid_month", f"month {text[:40]!r} is not a month (YYYY-MM)") from None
    return Month(_accepted(first, "month"))
