"""A month of usage for the portal's tests: three organizations in January 2024 with endpoints,
statuses (5xx among them, with error types), end users, agents, tools, sessions and queue waits,
written straight into the warehouse, rolled up (hourly, daily, per endpoint) and measured (the
business, customer and SRE metrics) the way the pipeline does."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from analytics_pipeline.costs.attribution import AllocationDriver, replace_cost_attribution
from analytics_pipeline.costs.infra_costs import CostCategory, CostSource, InfraCost, replace_infra_costs
from analytics_pipeline.costs.profitability import replace_profitability
from analytics_pipeline.metrics.activity import replace_activity
from analytics_pipeline.metrics.adoption import replace_feature_adoption
from analytics_pipeline.metrics.forecast import replace_usage_forecasts
from analytics_pipeline.metrics.health import replace_customer_health
from analytics_pipeline.metrics.revenue import replace_monthly_revenue, replace_top_customers
from analytics_pipeline.metrics.sre import replace_agent_metrics, replace_endpoint_metrics, replace_session_concurrency
from analytics_pipeline.rollups.pricing import parse_catalog, replace_model_prices
from analytics_pipeline.rollups.usage import Granularity, replace_endpoint_rollups, replace_usage_rollups
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.api.data import CATALOG, MODEL, ORG, OTHER_ORG

THIRD_ORG = "org-c"
#: An organization with tagged infrastructure cost in January and no usage at all.
GHOST_ORG = "org-ghost"
ORGS = (ORG, OTHER_ORG, THIRD_ORG)
JANUARY, FEBRUARY = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)
ENDPOINTS = (("POST", "/api/v1/chat/completions", 50, None), ("POST", "/api/v1/agents/runs", 25, "research"),
             ("POST", "/api/v1/tools/invoke", 15, None), ("GET", "/api/v1/models", 10, None))
COLUMNS = ("event_time", "organization_id", "request_id", "endpoint", "method", "status_code", "duration_ms",
           "tokens_consumed", "tokens_input", "tokens_output", "model_id", "event_type", "agent_type", "tool_name",
           "queue_wait_ms", "session_id", "level", "message", "user_id", "error_type")
#: Events per day of each organization (the third one is quiet: it stops on the 20th).
PER_DAY = {ORG: 40, OTHER_ORG: 25, THIRD_ORG: 10}


def month_events(seed: int = 11) -> list[tuple]:
    rng = random.Random(seed)
    events = []
    weights = [endpoint[2] for endpoint in ENDPOINTS]
    for org in ORGS:
        for day in range(31):
            if org == THIRD_ORG and day >= 20:
                continue
            for i in range(PER_DAY[org]):
                method, endpoint, _, agent = rng.choices(ENDPOINTS, weights)[0]
                at = JANUARY + timedelta(days=day, hours=rng.randrange(24), minutes=rng.randrange(60),
                                         seconds=rng.randrange(60))
                status = rng.choices([200, 400, 429, 500, 503], [90, 4, 2, 2, 2])[0]
                tokens_in, tokens_out = (rng.randrange(10, 3000), rng.randrange(5, 900)) if method == "POST" else (0, 0)
                model = rng.choice([MODEL, "m2"]) if method == "POST" else None
                events.append((
                    at, org, f"{org}-{day}-{i}", endpoint, method, status, float(rng.randrange(20, 1500)),
                    tokens_in + tokens_out, tokens_in, tokens_out, model, "agent.run" if agent else None, agent,
                    "web_search" if endpoint.endswith("invoke") else None, float(rng.randrange(0, 40)),
                    f"{org}-session-{day}-{i % 3}", "error" if status >= 500 else "info", "ok",
                    f"{org}-user-{rng.randrange(8)}", {400: "invalid_request", 429: "rate_limited",
                                                       500: "internal_error", 503: "upstream_timeout"}.get(status)))
    return events


EVENTS = month_events()


def load_month(warehouse_url: str) -> None:
    """The month's events, prices and rollups (hourly, daily, per endpoint) in the warehouse."""
    with connect(warehouse_url) as conn:
        with conn.transaction():
            replace_model_prices(conn, parse_catalog(CATALOG))
        for day in {row[0].date() for row in EVENTS}:
            conn.execute("SELECT analytics_ensure_event_partition(%s)", (day,))
        copy_sql = f"COPY analytics_events ({', '.join(COLUMNS)}, content_hash, object_id) FROM STDIN"
        with conn.cursor().copy(copy_sql) as copy:
            for row in EVENTS:
                copy.write_row((*row, "h", 1))
        conn.commit()
        for granularity in (Granularity.HOURLY, Granularity.DAILY):
            replace_usage_rollups(conn, granularity, JANUARY, FEBRUARY)
        replace_endpoint_rollups(conn, JANUARY, FEBRUARY)
        measure_month(conn)


def measure_month(conn) -> None:
    """The month's business, customer and SRE metrics, as the metrics assets compute them."""
    replace_activity(conn, JANUARY, FEBRUARY, churn_days=14)
    replace_feature_adoption(conn, JANUARY, FEBRUARY)
    replace_customer_health(conn, JANUARY, FEBRUARY)
    replace_usage_forecasts(conn, JANUARY, FEBRUARY)
    replace_monthly_revenue(conn, date(2024, 1, 1))
    replace_top_customers(conn, date(2024, 1, 1))
    replace_endpoint_metrics(conn, JANUARY, FEBRUARY)
    replace_agent_metrics(conn, JANUARY, FEBRUARY)
    replace_session_concurrency(conn, JANUARY, FEBRUARY)


def load_costs(warehouse_url: str) -> None:
    """January's infrastructure costs (tagged per organization, shared, and 10.50 USD tagged to
    :data:`GHOST_ORG`, which has no usage), attributed by tokens, and the month's profitability."""
    rows = []
    for day in range(31):
        usage_date = date(2024, 1, 1) + timedelta(days=day)
        rows += [InfraCost(usage_date, None, "Amazon EC2", Decimal("3.3333"), "USD", category=CostCategory.COMPUTE),
                 InfraCost(usage_date, None, "Amazon S3", Decimal("0.0701"), "USD", category=CostCategory.STORAGE),
                 InfraCost(usage_date, ORG, "Amazon EC2", Decimal("0.4567"), "USD", category=CostCategory.COMPUTE),
                 InfraCost(usage_date, OTHER_ORG, "AWS Lambda", Decimal("0.1234"), "USD", category=CostCategory.API)]
    rows.append(InfraCost(date(2024, 1, 5), GHOST_ORG, "Amazon EC2", Decimal("10.50"), "USD",
                          category=CostCategory.COMPUTE))
    with connect(warehouse_url) as conn:
        replace_infra_costs(conn, rows, days=[r.usage_date for r in rows], source=CostSource.focus,
                            metric="EffectiveCost")
        replace_cost_attribution(conn, JANUARY, FEBRUARY, AllocationDriver.TOKENS)
        replace_profitability(conn, date(2024, 1, 1), date(2024, 2, 1), is_month_to_date=False)
        conn.commit()
