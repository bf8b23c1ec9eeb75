"""Feature adoption against hand-computed values: a feature first used mid-month, shares of active
organizations, users per tenant."""

from datetime import date, timedelta

import pytest

from analytics_pipeline.metrics.activity import replace_activity
from analytics_pipeline.metrics.adoption import replace_feature_adoption
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.metrics.events import at, daily, event, insert


@pytest.fixture
def conn(warehouse_url):
    with connect(warehouse_url) as conn:
        yield conn


def run(conn, first: str, days: int):
    start = at(first + " 00:00")
    replace_activity(conn, start, start + timedelta(days=days), churn_days=14)
    return replace_feature_adoption(conn, start, start + timedelta(days=days))


def test_a_feature_first_used_mid_month_and_its_share_of_active_organizations(conn):
    insert(conn, daily("2026-03-01", 20, "org-a", 2, users=("u1", "u2"))
           + daily("2026-03-01", 20, "org-b", 1)
           + daily("2026-03-01", 20, "org-c", 1, endpoint="/v1/agents/runs", agent_type="coding")
           # org-a tries the sql tool on the 15th, with two users; org-b on the 16th
           + [event("2026-03-15 09:00", "org-a", "u1", endpoint="/v1/tools/invoke", tool_name="sql"),
              event("2026-03-15 10:00", "org-a", "u2", endpoint="/v1/tools/invoke", tool_name="sql"),
              event("2026-03-16 10:00", "org-b", "u7", endpoint="/v1/tools/invoke", tool_name="sql")])
    summary = run(conn, "2026-03-01", 20)
    first = {(u.organization_id, u.feature_kind, u.feature): u.first_used_on for u in summary.first_uses}
    assert first[("org-a", "tool", "sql")] == date(2026, 3, 15)
    assert first[("org-b", "tool", "sql")] == date(2026, 3, 16)
    assert first[("org-c", "agent_type", "coding")] == date(2026, 3, 1)
    adoption = {(d, kind, feature): rest for d, kind, feature, *rest in conn.execute(
        "SELECT day, feature_kind, feature, organizations, users, request_count, organization_share "
        "FROM analytics_feature_adoption_daily")}
    assert adoption[(date(2026, 3, 15), "tool", "sql")] == [1, 2, 2, pytest.approx(1 / 3)]
    assert adoption[(date(2026, 3, 16), "tool", "sql")] == [1, 1, 1, pytest.approx(1 / 3)]
    assert adoption[(date(2026, 3, 15), "endpoint", "/v1/chat")] == [2, 3, 3, pytest.approx(2 / 3)]
    assert (date(2026, 3, 14), "tool", "sql") not in adoption
    view = conn.execute("SELECT first_used_on, days_used, request_count FROM analytics_view_feature_first_use "
                        "WHERE organization_id = 'org-a' AND feature = 'sql'").fetchone()
    assert view == (date(2026, 3, 15), 1, 2)
    # A later window does not report first uses of an earlier one; a rerun gives the same rows.
    assert run(conn, "2026-03-17", 3).first_uses == []
    before = conn.execute("SELECT * FROM analytics_org_feature_usage_daily ORDER BY 1, 2, 3, 4").fetchall()
    run(conn, "2026-03-01", 20)
    assert conn.execute("SELECT * FROM analytics_org_feature_usage_daily ORDER BY 1, 2, 3, 4").fetchall() == before
