"""What one retention action did, or in a dry run would do: figures and one row per item."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

Figure = int | float | str | bool | None


@dataclass
class ActionReport:
    """The outcome of one action, shown as metadata in the Dagster UI.

    ``figures`` are counts, sizes and moments (numbers become plots over runs); ``items`` has
    one row per day, table, job or file group acted on (a table in the UI); ``problems`` are
    items that could not be handled and were left as they were.
    """

    action: str
    dry_run: bool
    figures: dict[str, Figure] = field(default_factory=dict)
    items: list[dict[str, Figure]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def verb(self, done: str, would: str) -> str:
        """``done`` ("dropped") or, in a dry run, ``would`` ("would drop")."""
        return would if self.dry_run else done

    @property
    def summary(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.figures.items() if isinstance(v, int | float) and v)
        prefix = "dry run: " if self.dry_run else ""
        return f"{prefix}{self.action}: {shown or 'nothing due'}" + (
            f"; {len(self.problems)} problem(s)" if self.problems else "")


def iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def age_days(moment: date | datetime | None, now: datetime) -> int | None:
    """Whole days from ``moment`` (a UTC day counts from its midnight) to ``now``."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=now.tzinfo)
    return (now - moment).days
