"""The platform alert sensor: the same evaluation as the library call, on a 30-second tick."""

from datetime import timedelta

import dagster as dg

from analytics_pipeline.defs.alerts.platform import EVALUATION_INTERVAL_SECONDS, platform_alert_sensor
from analytics_pipeline.defs.alerts.resources import AlertSettings
from analytics_pipeline.defs.resources import ClockResource, WarehouseResource
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.alerts.platform_events import insert_endpoint_events
from analytics_pipeline_tests.alerts.test_platform_alerts import ENDPOINT, T0


def test_the_sensor_pages_pagerduty_for_an_outage_with_the_shipped_rules(warehouse_url, pagerduty, webhook):
    with connect(warehouse_url) as conn:
        insert_endpoint_events(conn, endpoint=ENDPOINT, start=T0 - timedelta(minutes=10), count=600, status=200)
        insert_endpoint_events(conn, endpoint=ENDPOINT, start=T0, count=100, status=500,
                               spacing=timedelta(milliseconds=100))
    settings = AlertSettings(webhook_url=webhook.url, pagerduty_routing_key="key", pagerduty_events_url=pagerduty.url)
    assert platform_alert_sensor.minimum_interval_seconds == EVALUATION_INTERVAL_SECONDS <= 60
    for seconds in (30, 60, 90, 120):  # the shipped hold time is 30 s: pending at 30, fired at 60
        clock = ClockResource(frozen_at=(T0 + timedelta(seconds=seconds)).isoformat())
        with dg.build_sensor_context(resources={"warehouse": WarehouseResource(database_url=warehouse_url),
                                                "alert_settings": settings, "clock": clock}) as context:
            result = platform_alert_sensor(context)
        assert isinstance(result, dg.SkipReason)
    assert [post["event_action"] for post in pagerduty.posts] == ["trigger"]
    assert pagerduty.posts[0]["payload"]["severity"] == "critical"
    assert "fired 0" in result.skip_message  # the last tick: still firing, nothing new
