"""The public status page over HTTP: no key, no tenant on it, availability equal to the hourly SRE
metrics (and to the per-organization endpoint rollups, an independent path), the current state by
the documented thresholds on crafted hours, and an empty warehouse that says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from analytics_pipeline.api.portal.status import availability, state_of
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.api.conftest import FrozenClock
from analytics_pipeline_tests.api.portal.data import ORGS, load_month
from analytics_pipeline_tests.api.portal.helpers import portal_client, table_rows

NOW = datetime(2024, 1, 31, 20, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def status(tmp_path_factory, module_warehouse_url):
    from analytics_pipeline_tests.api.conftest import ApiServers

    load_month(module_warehouse_url)
    servers = ApiServers(tmp_path_factory.mktemp("status-api"))
    api = servers.start(module_warehouse_url, clock=FrozenClock(NOW))
    yield api, portal_client(api).get("/portal/status")
    servers.stop()


def _sql(api, query: str, *params) -> list[tuple]:
    with connect(api.database_url, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def test_the_status_page_needs_no_key_and_shows_no_tenant(status):
    api, page = status
    assert page.status_code == 200 and page.headers["cache-control"] == "public, max-age=30"
    for org in ORGS:
        assert org not in page.text
    assert "org-" not in page.text and "session" not in page.text.lower().replace("sessions", "")


def test_availability_over_90_days_equals_the_metrics_and_the_endpoint_rollups(status):
    """The page publishes availability only (no request or error counts: the platform's volume is not
    public); each figure is the exact share of the platform's hourly metrics, which equal the
    per-organization endpoint rollups added up (an independent path)."""
    api, page = status
    shown = {row[0]: row[3] for row in table_rows(page.text, "endpoint-states")}
    platform = {e: (r, f) for e, r, f in _sql(api, """
        SELECT endpoint, sum(request_count), sum(status_5xx) FROM analytics_endpoint_hourly_metrics
        WHERE organization_id IS NULL AND bucket_start < %s GROUP BY 1""", NOW.replace(minute=0) + timedelta(hours=1))}
    # An independent path: the per-organization endpoint rollups, added up over the organizations.
    rollups = {e: (r, f) for e, r, f in _sql(api, """
        SELECT endpoint, sum(request_count), sum(server_error_count) FROM analytics_endpoint_daily_rollups
        WHERE bucket_start < '2024-01-31' GROUP BY 1""")}
    assert set(shown) == set(platform) and len(shown) == 4
    day = {e: (r, f) for e, r, f in _sql(api, """
        SELECT endpoint, sum(request_count), sum(status_5xx) FROM analytics_endpoint_hourly_metrics
        WHERE organization_id IS NULL AND bucket_start >= '2024-01-31' AND bucket_start < '2024-01-31 21:00+00'
        GROUP BY 1""")}
    for endpoint, (requests, failures) in platform.items():
        assert shown[endpoint] == f"{availability(int(requests), int(failures)):.3f}%"
        assert (requests - day[endpoint][0], failures - day[endpoint][1]) == rollups[endpoint]
    assert "data-requests" not in page.text and "request_count" not in page.text
    days = table_rows(page.text, "availability-days")
    assert len(days) == 90 and days[0][0] == "2024-01-31" and days[-1][0] == "2023-11-03"
    assert all(cell == "–" for row in days[31:] for cell in row[1:])  # before the data: no figure, not 100 %


def test_the_current_state_follows_the_last_three_hours(status):
    api, page = status
    window = dict((e, state_of(r, f)) for e, r, f in _sql(api, """
        SELECT endpoint, sum(request_count)::bigint, sum(status_5xx)::bigint FROM analytics_endpoint_hourly_metrics
        WHERE organization_id IS NULL AND bucket_start >= '2024-01-31 18:00+00' AND bucket_start < '2024-01-31 21:00+00'
        GROUP BY 1"""))
    for row in table_rows(page.text, "endpoint-states"):
        assert row[1] == {"operational": "Operational", "degraded": "Degraded", "outage": "Outage",
                          "no_data": "No recent data"}[window.get(row[0], "no_data")]
    hours = table_rows(page.text, "availability-hours")
    assert [row[0] for row in hours] == [f"{h:02d}:00" for h in range(24)]
    expected = sorted(f"{availability(r, f):.2f}%" for r, f in _sql(api, """
        SELECT request_count, status_5xx FROM analytics_endpoint_hourly_metrics WHERE organization_id IS NULL
        AND bucket_start >= '2024-01-31' AND bucket_start < '2024-01-31 21:00+00'"""))
    # (Hours after "now", 20:30, are not on the page: the clock is what the page knows.)
    assert sorted(cell for row in hours for cell in row[1:] if cell != "–") == expected


def _hour_row(conn, hour: datetime, endpoint: str, requests: int, failures: int) -> None:
    conn.execute("""
        INSERT INTO analytics_endpoint_hourly_metrics (bucket_start, organization_id, endpoint, request_count,
            status_2xx, status_3xx, status_4xx, status_5xx, status_unknown, rate_limited_count,
            error_types_on_non_errors)
        VALUES (%s, NULL, %s, %s, %s, 0, 0, %s, 0, 0, 0)""", (hour, endpoint, requests, requests - failures, failures))


def test_crafted_hours_give_each_state_and_the_platform_its_worst(start_api, warehouse_url):
    now = datetime(2024, 3, 10, 12, 15, tzinfo=UTC)
    with connect(warehouse_url, autocommit=True) as conn:
        for back in range(3):
            hour = now.replace(minute=0) - timedelta(hours=back)
            _hour_row(conn, hour, "/v1/healthy", 1000, 1)
            _hour_row(conn, hour, "/v1/flaky", 1000, 15)      # 98.5 %: degraded
            _hour_row(conn, hour, "/v1/broken", 100, 20)      # 80 %: outage
            _hour_row(conn, hour, "/v1/quiet", 10, 1 if back == 0 else 0)  # 96.7 %, one failure: operational
        _hour_row(conn, now.replace(minute=0) - timedelta(hours=5), "/v1/gone", 50, 0)  # nothing in the window
    api = start_api(warehouse_url, clock=FrozenClock(now))
    page = portal_client(api).get("/portal/status").text
    states = {row[0]: row[1] for row in table_rows(page, "endpoint-states")}
    assert states == {"/v1/healthy": "Operational", "/v1/flaky": "Degraded", "/v1/broken": "Outage",
                      "/v1/quiet": "Operational", "/v1/gone": "No recent data"}
    assert '<span class="state state-outage" id="platform-state">Outage</span>' in page


def test_an_empty_warehouse_says_so(start_api, warehouse_url):
    api = start_api(warehouse_url)
    page = portal_client(api).get("/portal/status")
    assert page.status_code == 200 and "No recent data" in page.text
    assert "No requests between 2023-11-04 and 2024-02-01." in page.text and "data-chart" not in page.text
