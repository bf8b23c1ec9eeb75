"""The metrics tests' shared warehouse: four weeks of two organizations' events, rolled up."""

import pytest

from analytics_pipeline.rollups.pricing import parse_catalog, read_catalog_text, replace_model_prices
from analytics_pipeline.rollups.usage import Granularity, replace_usage_rollups
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.metrics.events import at, daily, event, insert


@pytest.fixture
def loaded(warehouse_url):
    """Four weeks of two organizations' events, rolled up as the rollup assets would."""
    with connect(warehouse_url) as conn:
        insert(conn, daily("2026-03-01", 28, "org-a", 24, users=("u1", "u2", "u3"), agent_type="coding")
               + daily("2026-03-01", 28, "org-b", 6, users=("u9",), tool_name="sql")
               + [event("2026-03-10 08:00", "org-b", "u9", status_code=429, error_type="rate_limited")])
        with conn.transaction():
            replace_model_prices(conn, parse_catalog(read_catalog_text(None)))
        start, end = at("2026-03-01 00:00"), at("2026-03-29 00:00")
        for granularity in (Granularity.HOURLY, Granularity.DAILY):
            replace_usage_rollups(conn, granularity, start, end)
    return warehouse_url
