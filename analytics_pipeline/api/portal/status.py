"""The status page's arithmetic, pure: availability (the share of requests served without a 5xx)
and the state it puts an endpoint in.

An endpoint's **current state** is judged on its requests of the last :data:`WINDOW_HOURS` hours
(the current hour so far and the two before, from the hourly SRE metrics):

* ``outage``: availability under :data:`OUTAGE_BELOW` % with at least :data:`OUTAGE_MIN_FAILURES`
  server errors;
* ``degraded``: availability under :data:`OPERATIONAL_AT` % with at least
  :data:`DEGRADED_MIN_FAILURES` server errors;
* ``operational``: otherwise;
* ``no_data``: no request in the window (nothing to judge; the page says since when).

The floors on failures keep a quiet endpoint from flapping: one 5xx among 20 requests is 95 %, but
not yet an outage. The platform's state is its worst endpoint's. A day of the 90-day history is
judged by the same rule on that day's requests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

WINDOW_HOURS = 3
OPERATIONAL_AT = 99.0
OUTAGE_BELOW = 95.0
DEGRADED_MIN_FAILURES = 3
OUTAGE_MIN_FAILURES = 10
HISTORY_DAYS = 90
STATES = ("operational", "degraded", "outage", "no_data")
_SEVERITY = {"no_data": 0, "operational": 1, "degraded": 2, "outage": 3}
LABELS = {"operational": "Operational", "degraded": "Degraded", "outage": "Outage", "no_data": "No recent data"}


def availability(requests: int, server_errors: int) -> float | None:
    """Percent of ``requests`` served without a server error (None without requests)."""
    return 100.0 * (requests - server_errors) / requests if requests else None


def state_of(requests: int, server_errors: int) -> str:
    share = availability(requests, server_errors)
    if share is None:
        return "no_data"
    if share < OUTAGE_BELOW and server_errors >= OUTAGE_MIN_FAILURES:
        return "outage"
    if share < OPERATIONAL_AT and server_errors >= DEGRADED_MIN_FAILURES:
        return "degraded"
    return "operational"


def worst(states: Iterable[str]) -> str:
    """The platform's state: its worst endpoint's (``no_data`` only when no endpoint has data)."""
    return max(states, key=_SEVERITY.__getitem__, default="no_data")


@dataclass(frozen=True)
class Tally:
    requests: int = 0
    server_errors: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.requests + other.requests, self.server_errors + other.server_errors)

    @property
    def availability(self) -> float | None:
        return availability(self.requests, self.server_errors)

    @property
    def state(self) -> str:
        return state_of(self.requests, self.server_errors)
