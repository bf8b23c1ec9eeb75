"""Active users and customers against hand-computed values: users across day boundaries, a customer
churning and coming back, reruns and late events."""

from datetime import date, timedelta

import pytest

from analytics_pipeline.metrics.activity import replace_activity
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.metrics.events import at, daily, event, insert

MARCH = at("2026-03-01 00:00")


def window(first: str, days: int = 1):
    start = at(first + " 00:00")
    return start, start + timedelta(days=days)


@pytest.fixture
def conn(warehouse_url):
    with connect(warehouse_url) as conn:
        yield conn


def org_days(conn, org):
    return {row[0]: row[1:] for row in conn.execute(
        "SELECT day, request_count, active_users, wau, mau, lifecycle FROM analytics_org_activity_daily "
        "WHERE organization_id = %s ORDER BY day", (org,))}


def platform(conn, day):
    return conn.execute(
        "SELECT active_customers, new_customers, returning_customers, reactivated_customers, churned_customers, "
        "dau, wau, mau FROM analytics_customer_activity_daily WHERE day = %s", (day,)).fetchone()


def test_users_across_a_day_boundary_and_trailing_windows(conn):
    insert(conn, [
        event("2026-03-01 23:59:59.999", "org-a", "u1"), event("2026-03-02 00:00:00", "org-a", "u1"),
        event("2026-03-01 10:00", "org-a", "u2"), event("2026-03-01 11:00", "org-a", "u2"),
        event("2026-03-02 09:00", "org-a", None),  # a service key: a request, no user
        event("2026-03-02 09:00", "org-b", "u1"),  # another tenant's u1 is another user
        event("2026-03-09 12:00", "org-a", "u3"),  # the week through the 9th starts on the 3rd
    ])
    replace_activity(conn, *window("2026-03-01", 9), churn_days=14)
    days = org_days(conn, "org-a")
    assert days[date(2026, 3, 1)] == (3, 2, 2, 2, "new")
    assert days[date(2026, 3, 2)] == (2, 1, 2, 2, "returning")  # u1 again; u2 still in the week and the month
    assert days[date(2026, 3, 9)] == (1, 1, 1, 3, "returning")  # WAU: u3 alone; MAU: u1, u2, u3
    assert platform(conn, date(2026, 3, 2)) == (2, 1, 1, 0, 0, 2, 3, 3)  # org-b is new; its u1 counts apart
    assert platform(conn, date(2026, 3, 5)) == (0, 0, 0, 0, 0, 0, 3, 3)  # nobody active, the week still holds 3
    stickiness = conn.execute("SELECT stickiness FROM analytics_org_activity_daily WHERE day = '2026-03-09' "
                              "AND organization_id = 'org-a'").fetchone()[0]
    assert stickiness == pytest.approx(1 / 3)


def test_a_customer_churning_and_coming_back(conn):
    # org-a active March 1-3, silent 15 days, back on the 19th; churn after 14 days without activity.
    insert(conn, daily("2026-03-01", 3, "org-a", 2) + daily("2026-03-19", 1, "org-a", 1)
           + daily("2026-03-01", 20, "org-b", 1))
    summary = replace_activity(conn, *window("2026-03-01", 20), churn_days=14)
    assert platform(conn, date(2026, 3, 17))[4] == 1  # last active the 3rd: the 17th is its 14th silent day
    assert [platform(conn, date(2026, 3, d))[4] for d in (16, 18)] == [0, 0]
    assert org_days(conn, "org-a")[date(2026, 3, 19)][-1] == "reactivated"  # 15 days without activity
    assert platform(conn, date(2026, 3, 19))[:5] == (2, 0, 2, 1, 0)
    assert (summary.last_day, summary.active_customers, summary.month_active_customers) == (date(2026, 3, 20), 1, 2)
    # April: org-b stays, org-a does not come: churned for the month, as of every day of April so far.
    insert(conn, daily("2026-04-01", 2, "org-b", 1))
    april = replace_activity(conn, *window("2026-04-01", 2), churn_days=14)
    assert (april.month_active_customers, april.month_new_customers, april.month_churned_customers) == (1, 0, 1)


@pytest.mark.parametrize("by_day_up_to", [0, 100], ids=["sorted-pass", "day-by-day"])
def test_reruns_and_late_events_leave_the_numbers_a_fresh_computation_gives(conn, by_day_up_to):
    insert(conn, daily("2026-03-01", 10, "org-a", 3, users=("u1", "u2", "u3")) + daily("2026-03-04", 4, "org-b", 2))
    replace_activity(conn, *window("2026-03-01", 10), churn_days=14)
    first = {org: org_days(conn, org) for org in ("org-a", "org-b")}
    replace_activity(conn, *window("2026-03-01", 10), churn_days=14)
    assert {org: org_days(conn, org) for org in ("org-a", "org-b")} == first  # a rerun changes nothing

    # Late events for the 2nd, after the days after it were computed: a new user, and org-b's first day.
    insert(conn, [event("2026-03-02 08:00", "org-a", "u9"), event("2026-03-02 08:00", "org-b", "u1")])
    replace_activity(conn, *window("2026-03-02"), churn_days=14, by_day_up_to=by_day_up_to)  # the 2nd restated
    restated = {org: org_days(conn, org) for org in ("org-a", "org-b")}
    assert restated["org-a"][date(2026, 3, 8)][3] == 4  # u9 reaches the later days' MAU
    assert restated["org-b"][date(2026, 3, 4)][-1] == "returning"  # no longer its first day
    platforms = [platform(conn, date(2026, 3, d)) for d in range(1, 11)]
    # ... exactly what computing every day afresh gives
    conn.execute("DELETE FROM analytics_org_activity_daily")
    conn.execute("DELETE FROM analytics_user_activity_daily")
    conn.execute("DELETE FROM analytics_customer_activity_daily")
    replace_activity(conn, *window("2026-03-01", 10), churn_days=14)
    assert {org: org_days(conn, org) for org in ("org-a", "org-b")} == restated
    assert [platform(conn, date(2026, 3, d)) for d in range(1, 11)] == platforms


def test_requests_equal_the_rollups_count(conn):
    insert(conn, daily("2026-03-01", 2, "org-a", 5, users=()) + [event("2026-03-01 00:00", "org-a", status_code=503)])
    replace_activity(conn, *window("2026-03-01", 2), churn_days=14)
    assert {d: v[:2] for d, v in org_days(conn, "org-a").items()} == {date(2026, 3, 1): (6, 0),
                                                                      date(2026, 3, 2): (5, 0)}
