"""``POST /analytics/v1/events`` over real HTTP: ingest keys, the answer, idempotency, limits,
and the ingest key reading nothing."""

from __future__ import annotations

import gzip
import zlib

import orjson
import pytest

from analytics_pipeline.api.keys import create_key
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.api.conftest import NOW

EVENTS = "/analytics/v1/events"


def ingest_token(api, name: str = "collector") -> str:
    with connect(api.database_url, autocommit=True) as conn:
        _row, new = create_key(conn, name=name, organization_id=None, finance=False, ingest=True, now=api.clock.now)
    return new.token


def event(org: str, request_id: str, tokens: int = 10, minute: int = 5) -> dict:
    return {"timestamp": f"2024-02-01T08:{minute:02d}:00Z", "customer_id": org, "request_id": request_id,
            "endpoint": "/v1/chat", "method": "POST", "status_code": 200, "duration_ms": 12.5,
            "tokens_consumed": tokens, "tokens_input": tokens // 2, "tokens_output": tokens - tokens // 2,
            "model_id": "claude-3-haiku"}


def warehouse_totals(api) -> tuple[int, int, int, int, int, int]:
    """(events, their tokens, ledger lines, accepted, duplicates, quarantined) of the ingest API."""
    with connect(api.database_url, autocommit=True) as conn:
        events, tokens = conn.execute("SELECT count(*), coalesce(sum(tokens_consumed), 0) FROM analytics_events"
                                      ).fetchone()
        ledger = conn.execute("SELECT coalesce(sum(lines_read), 0), coalesce(sum(accepted), 0), "
                              "coalesce(sum(duplicates), 0), coalesce(sum(quarantined), 0) "
                              "FROM analytics_ingested_objects WHERE source = 'ingest_api'").fetchone()
        quarantine_rows = conn.execute("SELECT count(*) FROM analytics_quarantine").fetchone()[0]
    assert ledger[0] == ledger[1] + ledger[2] + ledger[3]
    assert quarantine_rows == ledger[3]
    return (events, tokens, *ledger)


def test_a_batch_is_answered_with_what_became_of_each_event(api):
    token = ingest_token(api)
    batch = [event("org-a", "r1"), event("org-b", "r1"), event("org-a", "r1"),  # a duplicate in the batch
             {"customer_id": "org-a", "request_id": "r2"},  # no timestamp
             {**event("org-a", "r1"), "tokens_consumed": 99}]  # same id, other content
    response = api.client.post(EVENTS, content=orjson.dumps(batch), headers=api.auth(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {"received": 5, "accepted": 2, "duplicates": 1, "quarantined": 2, "replayed": False,
                    "firstQuarantined": [
                        {"line": 4, "reason": "missing_field", "detail": body["firstQuarantined"][0]["detail"]},
                        {"line": 5, "reason": "conflicting_duplicate",
                         "detail": body["firstQuarantined"][1]["detail"]}]}
    assert warehouse_totals(api) == (2, 20, 5, 2, 1, 2)


def test_json_lines_gzip_are_accepted(api):
    token = ingest_token(api)
    ndjson = b"\n".join(orjson.dumps(event("org-a", f"g{i}")) for i in range(50)) + b"\n"
    response = api.client.post(EVENTS, content=gzip.compress(ndjson), headers={
        **api.auth(token), "Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"})
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 50
    assert warehouse_totals(api)[:2] == (50, 500)


def test_a_retried_idempotency_key_answers_the_first_time_and_writes_nothing(api):
    token = ingest_token(api)
    batch = orjson.dumps([event("org-a", "i1"), event("org-a", "i2"), {"bad": True}])
    headers = {**api.auth(token), "Idempotency-Key": "batch-0001"}
    first = api.client.post(EVENTS, content=batch, headers=headers)
    again = api.client.post(EVENTS, content=batch, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == {**first.json(), "replayed": True}
    assert warehouse_totals(api) == (2, 20, 3, 2, 0, 1)
    other = api.client.post(EVENTS, content=orjson.dumps([event("org-a", "i3")]), headers=headers)
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    # Another ingest key's same Idempotency-Key is its own batch.
    mine = api.client.post(EVENTS, content=batch, headers={**api.auth(ingest_token(api, "other")),
                                                          "Idempotency-Key": "batch-0001"})
    assert mine.json()["duplicates"] == 2
    assert warehouse_totals(api)[:2] == (2, 20)


def test_a_retry_without_idempotency_key_counts_every_event_once(api):
    token = ingest_token(api)
    batch = orjson.dumps([event("org-a", f"n{i}") for i in range(10)])
    for _attempt in range(3):
        assert api.client.post(EVENTS, content=batch, headers=api.auth(token)).status_code == 200
    assert warehouse_totals(api) == (10, 100, 30, 10, 20, 0)


def test_the_key_is_checked_before_the_body(api):
    org_token, _ = api.key("org-a")
    too_big = b"[" + b" " * (6 * 1024 * 1024) + b"]"
    missing = api.client.post(EVENTS, content=too_big)
    assert (missing.status_code, missing.json()["error"]["code"]) == (401, "missing_api_key")
    reader = api.client.post(EVENTS, content=b"\x1f\x8bnot gzip", headers={**api.auth(org_token),
                                                                          "Content-Encoding": "gzip"})
    assert (reader.status_code, reader.json()["error"]["code"]) == (403, "ingest_key_required")
    finance_token, _ = api.key(None, finance=True)
    assert api.client.post(EVENTS, content=b"[]", headers=api.auth(finance_token)).status_code == 403
    assert warehouse_totals(api)[0] == 0


@pytest.mark.parametrize("path", [
    "/analytics/v1/orgs/org-a/usage?start=2024-01-01&end=2024-01-02",
    "/analytics/v1/orgs/org-a/exports",
    "/analytics/v1/orgs/org-a/exports/550e8400-e29b-41d4-a716-446655440000",
    "/analytics/v1/orgs/org-a/exports/550e8400-e29b-41d4-a716-446655440000/download",
])
def test_an_ingest_key_reads_nothing(api, path):
    token = ingest_token(api)
    response = api.client.get(path, headers=api.auth(token))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "organization_out_of_scope"
    create = api.client.post("/analytics/v1/orgs/org-a/exports", headers=api.auth(token), json={
        "timeRange": {"start": "2024-01-01T00:00:00Z", "end": "2024-01-31T23:59:59Z"}, "granularity": "daily"})
    assert create.status_code == 403


def test_limits_are_refused_with_bounded_memory(api):
    token = ingest_token(api)
    too_many = orjson.dumps([event("org-a", f"m{i}") for i in range(10_001)])
    response = api.client.post(EVENTS, content=too_many, headers=api.auth(token))
    assert (response.status_code, response.json()["error"]["code"]) == (413, "too_many_events")
    ndjson = b"\n".join(orjson.dumps(event("org-a", f"m{i}")) for i in range(10_001))
    response = api.client.post(EVENTS, content=ndjson, headers=api.auth(token))
    assert (response.status_code, response.json()["error"]["code"]) == (413, "too_many_events")
    # A bomb: 1 GiB of zeros in about 1 MiB of gzip; refused at the 5 MiB cap, never inflated whole.
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1024 * 1024)
    bomb = b"".join(compressor.compress(block) for _ in range(1024)) + compressor.flush()
    response = api.client.post(EVENTS, content=bomb, headers={**api.auth(token), "Content-Encoding": "gzip"})
    assert (response.status_code, response.json()["error"]["code"]) == (413, "body_too_large")
    bad = api.client.post(EVENTS, content=gzip.compress(b"[]")[:-6], headers={**api.auth(token),
                                                                            "Content-Encoding": "gzip"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "malformed_gzip")
    garbage = api.client.post(EVENTS, content=b"\x1f\x8b\x08\x00garbage", headers={**api.auth(token),
                                                                                   "Content-Encoding": "gzip"})
    assert garbage.status_code == 400
    brotli = api.client.post(EVENTS, content=b"[]", headers={**api.auth(token), "Content-Encoding": "br"})
    assert brotli.status_code == 415
    large = api.client.post(EVENTS, content=b"[" + b" " * (5 * 1024 * 1024) + b"]", headers=api.auth(token))
    assert (large.status_code, large.json()["error"]["code"]) == (413, "body_too_large")
    not_json = api.client.post(EVENTS, content=b"[1, 2", headers=api.auth(token))
    assert (not_json.status_code, not_json.json()["error"]["code"]) == (400, "malformed_json")
    assert warehouse_totals(api)[0] == 0


def test_events_are_stored_with_their_own_time_and_the_ledger_hour_of_arrival(api):
    token = ingest_token(api)
    api.client.post(EVENTS, content=orjson.dumps([event("org-a", "t1", minute=59)]), headers=api.auth(token))
    with connect(api.database_url, autocommit=True) as conn:
        event_time, delivery_hour, event_hours = conn.execute(
            "SELECT e.event_time, o.delivery_hour, o.event_hours FROM analytics_events e "
            "JOIN analytics_ingested_objects o USING (object_id)").fetchone()
    assert event_time.isoformat() == "2024-02-01T08:59:00+00:00"
    assert delivery_hour == NOW.replace(minute=0)
    assert [h.isoformat() for h in event_hours] == ["2024-02-01T08:00:00+00:00"]


def test_what_arrives_shows_in_usage_at_once_as_provisional_until_the_rollups_cover_it(api):
    from datetime import timedelta

    from analytics_pipeline.rollups.pricing import parse_catalog, replace_model_prices
    from analytics_pipeline.rollups.usage import Granularity, replace_usage_rollups

    reader, _ = api.key("org-a")
    token = ingest_token(api)
    api.client.post(EVENTS, content=orjson.dumps([event("org-a", f"u{i}", minute=i) for i in range(30)]
                                                 + [event("org-b", "other")]), headers=api.auth(token))
    params = {"start": "2024-02-01T00:00:00Z", "end": "2024-02-02T00:00:00Z", "granularity": "hourly"}
    live = api.client.get("/analytics/v1/orgs/org-a/usage", headers=api.auth(reader), params=params).json()
    assert live["provisionalFrom"] == "2024-02-01T08:00:00Z"  # the first hour whose rollups lag the ledger
    assert [(p["bucketStart"], p["requestCount"], p["tokensTotal"], p["provisional"]) for p in live["series"]] == [
        ("2024-02-01T08:00:00Z", 30, 300, True)]
    # No price in effect yet: the cost is unknown (null), never zero.
    assert live["series"][0]["costTotal"] is None and live["totals"]["costTotal"] is None
    with connect(api.database_url) as conn:
        with conn.transaction():
            replace_model_prices(conn, parse_catalog(
                "model_id,effective_from,price_per_request,price_per_1k_input_tokens,price_per_1k_output_tokens\n"
                "*,2024-01-01T00:00:00Z,0.001,0.01,0.02\n"))
    live = api.client.get("/analytics/v1/orgs/org-a/usage", headers=api.auth(reader), params=params).json()
    assert live["series"][0]["costTotal"] == "0.0345" == live["totals"]["costTotal"]  # 30 x (0.001 + 5e-5 + 1e-4)
    daily = api.client.get("/analytics/v1/orgs/org-a/usage", headers=api.auth(reader), params={
        **params, "granularity": "daily"}).json()
    assert [(p["requestCount"], p["provisional"]) for p in daily["series"]] == [(30, True)]

    # The hourly rollups reach the hour: its figures are theirs, final, and the same.
    with connect(api.database_url) as conn:
        replace_usage_rollups(conn, Granularity.HOURLY, NOW - timedelta(hours=9), NOW)
    final = api.client.get("/analytics/v1/orgs/org-a/usage", headers=api.auth(reader), params=params).json()
    assert final["provisionalFrom"] == "2024-02-01T09:00:00Z"
    assert [(p["bucketStart"], p["requestCount"], p["provisional"]) for p in final["series"]] == [
        ("2024-02-01T08:00:00Z", 30, False)]
    assert final["series"][0]["costTotal"] == live["series"][0]["costTotal"]
