"""How fresh data is, as of a given moment: data time, not run time.

Pure (no Dagster). Dagster's freshness policies look at when an asset was last
*materialized*; a materialization that loaded nothing new, or a backfill of old hours, resets
them while the data is as stale as before. A reading looks at the data: the newest moment it
covers. The lag is ``as_of`` minus that moment; beyond ``warn_after`` it warns, beyond
``fail_after`` it fails. The domains take their readings (``ingestion.freshness``,
``rollups.freshness``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

FRESH, WARN, FAIL = "fresh", "warn", "fail"
MIN_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class FreshnessReading:
    """The newest data time of one asset as of ``as_of``, graded against two thresholds."""

    as_of: datetime
    newest: datetime | None  # None: no data at all up to as_of
    warn_after: timedelta
    fail_after: timedelta
    details: dict[str, datetime | None] = field(default_factory=dict)  # other figures worth showing

    def __post_init__(self) -> None:
        if self.as_of.utcoffset() is None:
            raise ValueError("as_of must be a timezone-aware datetime")
        if not timedelta(0) <= self.warn_after <= self.fail_after:
            raise ValueError(f"need 0 <= warn_after <= fail_after, got {self.warn_after} and {self.fail_after}")

    @property
    def lag(self) -> timedelta | None:
        """``as_of - newest`` (never negative), or None without data."""
        return None if self.newest is None else max(self.as_of - self.newest, timedelta(0))

    @property
    def state(self) -> str:
        """``fresh``, ``warn`` (lag beyond warn_after) or ``fail`` (beyond fail_after, or no data)."""
        lag = self.lag
        if lag is None or lag > self.fail_after:
            return FAIL
        return WARN if lag > self.warn_after else FRESH


def lookback(fail_after: timedelta) -> timedelta:
    """How far back the newest data is searched first (twice the fail threshold, at least a day)."""
    return max(2 * fail_after, MIN_LOOKBACK)
