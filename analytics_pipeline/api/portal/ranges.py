"""The ranges pages show: whole UTC days, first to last inclusive (what a person types in a date
field), or a calendar month; validated into ``[start, end)`` with the reason when refused."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from analytics_pipeline.api.errors import ApiError

MAX_DAILY_DAYS = 366
MAX_HOURLY_DAYS = 31
DEFAULT_DAYS = 30


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


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ApiError(422, "invalid_date", f"{name} {text[:40]!r} is not a date (YYYY-MM-DD)") from None


def day_range(start: str | None, end: str | None, *, default_last: date, max_days: int = MAX_DAILY_DAYS,
              default_days: int = DEFAULT_DAYS) -> DayRange:
    """``start``..``end`` (both days included); either missing: the ``default_days`` ending on
    ``default_last`` (or beginning on ``start``). ApiError 422 for a bad date, an end before the
    start, or more than ``max_days``."""
    last = _day(end, "end") if end else None
    first = _day(start, "start") if start else None
    if last is None:
        last = first + timedelta(days=default_days - 1) if first else default_last
    if first is None:
        first = last - timedelta(days=default_days - 1)
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
    """``YYYY-MM``, or the month of ``default``; ApiError 422 otherwise."""
    if not text:
        return Month(default.replace(day=1))
    try:
        return Month(date.fromisoformat(text.strip() + "-01"))
    except ValueError:
        raise ApiError(422, "invalid_month", f"month {text[:40]!r} is not a month (YYYY-MM)") from None
