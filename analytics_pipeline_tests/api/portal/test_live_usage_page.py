"""The portal's usage page shows what arrived seconds ago (by the ingest API here) in the open
hour, marked provisional, and the rollups' figures once they cover the hour."""

from __future__ import annotations

from datetime import timedelta

import orjson

from analytics_pipeline.rollups.pricing import parse_catalog, replace_model_prices
from analytics_pipeline.rollups.usage import Granularity, replace_usage_rollups
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.api.conftest import NOW
from analytics_pipeline_tests.api.portal.helpers import number, sign_in, table_rows
from analytics_pipeline_tests.api.test_ingest_api import EVENTS, event, ingest_token


def test_the_open_hour_is_shown_live_and_marked_provisional(api):
    api.client.post(EVENTS, content=orjson.dumps([event("org-a", f"p{i}", minute=i) for i in range(12)]
                                                 + [event("org-b", "not-mine")]), headers=api.auth(ingest_token(api)))
    reader, _ = api.key("org-a")
    client = sign_in(api, reader)
    page = client.get("/portal/orgs/org-a/usage?start=2024-02-01&end=2024-02-01&granularity=hourly")
    assert page.status_code == 200
    assert [(row[0], number(row[1]), number(row[4])) for row in table_rows(page.text, "usage-table")] == [
        ("2024-02-01 08:00 provisional", 12, 120)]
    assert 'id="usage-provisional"' in page.text
    with connect(api.database_url) as conn:
        with conn.transaction():
            replace_model_prices(conn, parse_catalog(
                "model_id,effective_from,price_per_request,price_per_1k_input_tokens,price_per_1k_output_tokens\n"
                "*,2024-01-01T00:00:00Z,0.001,0.01,0.02\n"))
        replace_usage_rollups(conn, Granularity.HOURLY, NOW - timedelta(hours=9), NOW)
    page = client.get("/portal/orgs/org-a/usage?start=2024-02-01&end=2024-02-01&granularity=hourly")
    assert [(row[0], number(row[1])) for row in table_rows(page.text, "usage-table")] == [("2024-02-01 08:00", 12)]
    assert 'id="usage-provisional"' not in page.text


def test_an_ingest_key_cannot_sign_in_to_the_portal(api):
    from analytics_pipeline_tests.api.portal.helpers import hidden, portal_client

    client = portal_client(api)
    form = client.get("/portal/sign-in")
    refused = client.post("/portal/sign-in", data={"api_key": ingest_token(api), "next": "",
                                                   "form_token": hidden(form.text, "form_token")})
    assert refused.status_code == 403 and "ingest key" in refused.text
    assert "analytics_portal_session" not in refused.cookies
    with connect(api.database_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM analytics_portal_sessions").fetchone()[0] == 0
