"""``POST /analytics/v1/firehose``: Amazon Data Firehose's HTTP endpoint delivery format, CloudWatch
Logs subscription payloads, retried request ids, and refusals Firehose retries."""

from __future__ import annotations

import base64
import gzip

import orjson

from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.api.conftest import NOW
from analytics_pipeline_tests.api.test_ingest_api import event, ingest_token, warehouse_totals

FIREHOSE = "/analytics/v1/firehose"


def cloudwatch_payload(events: list[dict], message_type: str = "DATA_MESSAGE") -> bytes:
    """What a CloudWatch Logs subscription filter sends: a gzip JSON envelope of log events."""
    return gzip.compress(orjson.dumps({
        "messageType": message_type, "owner": "123456789012", "logGroup": "/platform/api",
        "logStream": "i-0abc", "subscriptionFilters": ["usage"],
        "logEvents": [{"id": str(i), "timestamp": 1706774400000, "message": orjson.dumps(e).decode()}
                      for i, e in enumerate(events)]}))


def delivery(request_id: str, records: list[bytes]) -> bytes:
    return orjson.dumps({"requestId": request_id, "timestamp": int(NOW.timestamp() * 1000),
                         "records": [{"data": base64.b64encode(r).decode()} for r in records]})


def headers(request_id: str, token: str | None) -> dict[str, str]:
    values = {"X-Amz-Firehose-Request-Id": request_id, "X-Amz-Firehose-Protocol-Version": "1.0",
              "Content-Type": "application/json"}
    if token is not None:
        values["X-Amz-Firehose-Access-Key"] = token
    return values


def test_a_delivery_of_cloudwatch_payloads_and_json_records_is_loaded_and_answered(api):
    token = ingest_token(api)
    records = [cloudwatch_payload([event("org-a", "c1"), event("org-a", "c2")]),
               cloudwatch_payload([], "CONTROL_MESSAGE"),
               orjson.dumps(event("org-b", "j1")),
               b"not json at all"]
    response = api.client.post(FIREHOSE, content=delivery("req-1", records), headers=headers("req-1", token))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"requestId": "req-1", "timestamp": int(NOW.timestamp() * 1000)}
    with connect(api.database_url, autocommit=True) as conn:
        ledger = conn.execute("SELECT lines_read, accepted, duplicates, quarantined FROM analytics_ingested_objects "
                              "WHERE source = 'firehose'").fetchall()
        reasons = conn.execute("SELECT reason FROM analytics_quarantine").fetchall()
        events = conn.execute("SELECT organization_id, request_id FROM analytics_events ORDER BY 1, 2").fetchall()
    assert ledger == [(4, 3, 0, 1)]
    assert reasons == [("invalid_envelope",)]
    assert events == [("org-a", "c1"), ("org-a", "c2"), ("org-b", "j1")]


def test_a_retried_request_writes_nothing_twice(api):
    token = ingest_token(api)
    body = delivery("req-2", [cloudwatch_payload([event("org-a", f"r{i}") for i in range(20)])])
    for _attempt in range(3):
        response = api.client.post(FIREHOSE, content=body, headers=headers("req-2", token))
        assert response.status_code == 200
        assert response.json()["requestId"] == "req-2"
    with connect(api.database_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM analytics_ingested_objects WHERE source = 'firehose'"
                            ).fetchone()[0] == 1
    # The same events under a new request id (Firehose gave up and a backup replays them) are duplicates.
    other = api.client.post(FIREHOSE, content=delivery("req-3", [cloudwatch_payload(
        [event("org-a", f"r{i}") for i in range(20)])]), headers=headers("req-3", token))
    assert other.status_code == 200
    with connect(api.database_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*), sum(tokens_consumed) FROM analytics_events").fetchone() == (20, 200)
        assert conn.execute("SELECT sum(duplicates) FROM analytics_ingested_objects").fetchone()[0] == 20


def test_refusals_have_firehose_shape_and_a_status_it_retries(api):
    org_token, _ = api.key("org-a")
    token = ingest_token(api)
    body = delivery("req-4", [orjson.dumps(event("org-a", "x"))])
    for access_key, status, code in ((None, 401, "missing_api_key"), ("ak_nope", 401, "invalid_api_key"),
                                     (org_token, 403, "ingest_key_required")):
        response = api.client.post(FIREHOSE, content=body, headers=headers("req-4", access_key))
        assert response.status_code == status
        answer = response.json()
        assert answer["requestId"] == "req-4" and isinstance(answer["timestamp"], int)
        assert answer["errorMessage"] and answer["error"]["code"] == code
    bad = api.client.post(FIREHOSE, content=b'{"requestId": "req-5", "records": [{"data": "%%%"}]}',
                          headers=headers("req-5", token))
    assert bad.status_code == 400 and bad.json()["requestId"] == "req-5"
    mismatch = api.client.post(FIREHOSE, content=body, headers=headers("req-6", token))
    assert mismatch.status_code == 400
    assert warehouse_totals(api)[0] == 0
    # A request id seen before with other records is refused, not loaded.
    assert api.client.post(FIREHOSE, content=body, headers=headers("req-4", token)).status_code == 200
    other = delivery("req-4", [orjson.dumps(event("org-a", "y"))])
    assert api.client.post(FIREHOSE, content=other, headers=headers("req-4", token)).status_code == 409
    assert warehouse_totals(api)[0] == 1


def test_a_gzip_request_body_is_accepted(api):
    token = ingest_token(api)
    body = gzip.compress(delivery("req-7", [orjson.dumps(event("org-a", "z1"))]))
    response = api.client.post(FIREHOSE, content=body, headers={**headers("req-7", token),
                                                                "Content-Encoding": "gzip"})
    assert response.status_code == 200, response.text
    assert warehouse_totals(api)[0] == 1


def test_the_generator_sends_through_http_and_firehose_and_every_event_counts_once(api, monkeypatch, capsys):
    from analytics_pipeline import cli

    monkeypatch.setenv("INGEST_KEY", ingest_token(api))
    common = ["generate", "--api-url", api.url, "--start", "2024-01-31", "--days", "1", "--orgs", "3",
              "--events-per-hour", "40", "--duplicate-rate", "0.05", "--malformed-rate", "0.02"]
    assert cli.main([*common, "--send", "http"]) == 0
    assert "accepted" in capsys.readouterr().out
    with connect(api.database_url, autocommit=True) as conn:
        first = conn.execute("SELECT count(*), count(DISTINCT (organization_id, request_id)) FROM analytics_events"
                             ).fetchone()
        http = conn.execute("SELECT sum(lines_read), sum(accepted), sum(duplicates), sum(quarantined) "
                            "FROM analytics_ingested_objects WHERE source = 'ingest_api'").fetchone()
    assert first[0] == first[1] == http[1] > 0 and http[2] > 0 and http[3] > 0
    # The same generated day again, through Firehose: every event is already there.
    assert cli.main([*common, "--send", "firehose"]) == 0
    with connect(api.database_url, autocommit=True) as conn:
        again = conn.execute("SELECT count(*) FROM analytics_events").fetchone()[0]
        firehose = conn.execute("SELECT sum(lines_read), sum(accepted), sum(duplicates), sum(quarantined) "
                                "FROM analytics_ingested_objects WHERE source = 'firehose'").fetchone()
    assert again == first[0]
    assert firehose == (http[0], 0, http[1] + http[2], http[3])


def test_the_warehouse_down_is_a_503_in_firehose_shape_that_firehose_retries(start_api, pg_server_url,
                                                                             empty_database_url):
    import urllib.parse

    from analytics_pipeline.warehouse.database import drop_database

    api = start_api(empty_database_url, api_key_cache_seconds=60.0)  # the key stays known once used
    token = ingest_token(api)
    first = delivery("req-8", [orjson.dumps(event("org-a", "d1"))])
    assert api.client.post(FIREHOSE, content=first, headers=headers("req-8", token)).status_code == 200
    drop_database(pg_server_url, urllib.parse.urlsplit(empty_database_url).path.lstrip("/"))
    down = api.client.post(FIREHOSE, content=delivery("req-9", [orjson.dumps(event("org-a", "d2"))]),
                           headers=headers("req-9", token))
    assert down.status_code == 503 and down.headers["Retry-After"] == "30"
    assert down.json()["requestId"] == "req-9" and down.json()["error"]["code"] == "warehouse_unavailable"
