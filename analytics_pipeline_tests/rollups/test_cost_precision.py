"""Cost stays exact with many-digit prices and large token sums (numeric, never rounded)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext

from analytics_pipeline.rollups.pricing import parse_catalog, replace_model_prices
from analytics_pipeline.rollups.reconciliation import rollup_mismatches_against_events
from analytics_pipeline.rollups.usage import Granularity, replace_usage_rollups
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.event_rows import insert_events

DAY = datetime(2026, 6, 15, tzinfo=UTC)
CATALOG = """model_id,effective_from,price_per_request,price_per_1k_input_tokens,price_per_1k_output_tokens
m1,2025-01-01T00:00:00Z,0.000000000123456789,1.2345678901,0.98765432109876543
*,2025-01-01T00:00:00Z,0,0,0
"""


def test_large_token_sums_at_many_digit_prices_are_exact(warehouse_url):
    # One request of 10,000,001 input and 3,333,333 output tokens, and another of 7 / 11.
    # numeric `/ 1000` would round the group's product to ~16 significant digits.
    events = [(DAY + timedelta(minutes=1), "org-a", "big", "m1", 200, 1.0, None, 10_000_001, 3_333_333),
              (DAY + timedelta(minutes=2), "org-a", "small", "m1", 200, 1.0, None, 7, 11)]
    per_request = Decimal("0.000000000123456789")
    price_in, price_out = Decimal("1.2345678901"), Decimal("0.98765432109876543")
    with localcontext(prec=60):  # wide enough to be exact
        expected = sum(per_request + Decimal(tin) * price_in / 1000 + Decimal(tout) * price_out / 1000
                       for *_, tin, tout in events)
    assert expected == Decimal("15637.88038285201086707592")
    with connect(warehouse_url) as conn:
        with conn.transaction():
            replace_model_prices(conn, parse_catalog(CATALOG))
        insert_events(conn, events)
        window = (DAY, DAY + timedelta(days=1))
        replace_usage_rollups(conn, Granularity.HOURLY, *window)
        replace_usage_rollups(conn, Granularity.DAILY, *window)
        for table in ("analytics_hourly_rollups", "analytics_daily_rollups"):
            assert conn.execute(f"SELECT cost_total FROM {table}").fetchone()[0] == expected  # noqa: S608
        assert rollup_mismatches_against_events(conn, Granularity.HOURLY, *window) == []
        assert rollup_mismatches_against_events(conn, Granularity.DAILY, *window) == []
