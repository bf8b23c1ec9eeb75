"""The status page's documented thresholds, on hand-made counts."""

import pytest

from analytics_pipeline.api.portal.status import Tally, availability, state_of, worst


@pytest.mark.parametrize(("requests", "server_errors", "state"), [
    (0, 0, "no_data"),
    (1000, 0, "operational"),
    (1000, 10, "operational"),      # 99.0 %: still operational
    (1000, 11, "degraded"),         # 98.9 %
    (100, 2, "operational"),        # 98 %, but only 2 failures: too few to call it degraded
    (100, 3, "degraded"),
    (1000, 51, "outage"),           # 94.9 %
    (20, 9, "degraded"),            # 55 %, but fewer than 10 failures: degraded, not an outage
    (20, 10, "outage"),
])
def test_states_follow_the_documented_thresholds(requests, server_errors, state):
    assert state_of(requests, server_errors) == state


def test_availability_and_the_platforms_worst_state():
    assert availability(200, 1) == 99.5 and availability(0, 0) is None
    assert worst(["operational", "no_data", "degraded"]) == "degraded"
    assert worst(["no_data", "no_data"]) == "no_data" and worst([]) == "no_data"
    assert worst(["operational", "outage", "degraded"]) == "outage"
    assert (Tally(10, 1) + Tally(990, 10)).state == "degraded" and Tally(10, 1).availability == 90.0
