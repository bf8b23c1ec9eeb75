"""The demo's live step: the hour before now of the demo's organizations, POSTed to the ingest
API with an ingest key, is in the organization's /usage at once, provisional, and counted once."""

from datetime import UTC, datetime, timedelta

import orjson

from analytics_pipeline.cli.demo import demo_live_lines, send_and_read_live_usage
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.api.conftest import ApiServers, FrozenClock

NOW = datetime(2026, 11, 2, 0, 25, tzinfo=UTC)  # the hour before crosses midnight and a month


def test_the_last_hour_sent_live_shows_in_usage_provisional(tmp_path, warehouse_url):
    lines = demo_live_lines(NOW, orgs=3, models=3, seed=7)
    times = [datetime.fromisoformat(orjson.loads(line)["timestamp"]) for line in lines]
    assert 1000 < len(lines) < 10_000  # "a few thousand"
    assert NOW - timedelta(hours=1) <= min(times) and max(times) < NOW
    assert lines == demo_live_lines(NOW, orgs=3, models=3, seed=7)  # drawn from the seed and now
    assert not set(lines) & set(demo_live_lines(NOW + timedelta(minutes=1), orgs=3, models=3, seed=7))

    servers = ApiServers(tmp_path)
    try:
        api = servers.start(warehouse_url, clock=FrozenClock(NOW))
        organization = orjson.loads(lines[0])["customer_id"]
        ingest, _ = api.key(None, "demo live path", ingest=True)
        reader, _ = api.key(organization, "demo live usage")
        shown = send_and_read_live_usage(api.client, lines, NOW, ingest, reader, organization, wait_seconds=5)
        # The same lines sent again (new idempotency keys): every event a duplicate, nothing counted twice.
        again = send_and_read_live_usage(api.client, lines, NOW, ingest, reader, organization, wait_seconds=0)
    finally:
        servers.stop()

    assert (shown.sent.events, shown.sent.accepted, shown.sent.duplicates, shown.sent.quarantined) == (
        len(lines), len(lines), 0, 0)
    own = sum(orjson.loads(line)["customer_id"] == organization for line in lines)
    assert (shown.organization_events, shown.requests_before, shown.requests_after) == (own, 0, own)
    assert shown.provisional_from is not None
    assert datetime.fromisoformat(shown.provisional_from) <= min(times)
    assert (again.sent.accepted, again.sent.duplicates, again.requests_before, again.requests_after) == (
        0, len(lines), own, own)
    with connect(warehouse_url) as conn:
        assert conn.execute("SELECT count(*) FROM analytics_events").fetchone()[0] == len(lines)
