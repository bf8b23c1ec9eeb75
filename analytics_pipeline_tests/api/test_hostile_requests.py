"""What an attacker tried against the API and the portal (issue 24), each answered as it should:
the calendar's edges refused 422 (never a 500), an unexpected error answered once in the error
shape, no redirect to the ``Host`` header's site, every method of a path in a 405's ``Allow``,
download links that take no encoded or repeated signature and a log that redacts one anyway, no
server path in ``outputUri``, and links that follow the port the API listens on."""

from __future__ import annotations

import dataclasses
import logging
import urllib.parse

import httpx
import pytest

from analytics_pipeline.api.app import public_url, redact_query
from analytics_pipeline.settings import load_settings
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.api.data import ORG
from analytics_pipeline_tests.api.helpers import JOBS, add_job
from analytics_pipeline_tests.api.portal.helpers import hidden, sign_in

EXPORTS = JOBS.format(org=ORG)


@pytest.fixture(scope="module")
def hostile(module_api):
    api = module_api
    token, _ = api.key(ORG)
    job = add_job(api, ORG, status="succeeded", content=b"csv of the organization\n")
    link = api.client.get(f"{EXPORTS}/{job}/download", headers=api.auth(token)).headers["location"]
    return api, token, job, link


def test_a_405_allows_every_method_of_the_path(hostile):
    api, token, job, _ = hostile
    for path, allowed in ((EXPORTS, "GET, POST"), (f"{EXPORTS}/{job}", "GET"), ("/healthz", "GET"),
                          (f"/portal/orgs/{ORG}/exports", "GET, POST")):
        response = api.client.delete(path, headers=api.auth(token))
        assert response.status_code == 405 and response.headers["allow"] == allowed, path
    assert api.client.put(EXPORTS, headers=api.auth(token)).json()["error"]["code"] == "method_not_allowed"


def test_a_trailing_slash_is_not_found_and_never_redirected_to_the_host_header(hostile):
    api, token, _, _ = hostile
    for path in (f"{EXPORTS}/", "/healthz/", "/readyz/"):
        response = api.client.get(path, headers={**api.auth(token), "Host": "evil.example"})
        assert response.status_code == 404 and "location" not in response.headers, path
        assert response.json()["error"]["code"] == "not_found"


def test_a_local_stores_output_uri_is_the_key_not_the_servers_path(hostile):
    api, token, job, _ = hostile
    body = api.client.get(f"{EXPORTS}/{job}", headers=api.auth(token)).json()
    assert body["outputUri"] == f"adhoc/{ORG}/{job}/usage_daily.csv"
    listed = api.client.get(EXPORTS, headers=api.auth(token)).text
    assert api.settings.exports_url not in listed and str(api.settings.home) not in listed


def test_a_download_link_takes_its_signature_once_and_by_its_plain_name(hostile):
    api, _, _, link = hostile
    assert httpx.get(link).content == b"csv of the organization\n"
    signature = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["signature"][0]
    for changed in (link.replace("signature=", "%73ignature="), link.replace("signature=", "Signature="),
                    f"{link}&signature={signature}", link.replace("expires=", "%65xpires=")):
        response = httpx.get(changed)
        assert response.status_code in (403, 422) and b"csv of" not in response.content, changed
    assert httpx.get(link.replace("signature=", "%73ignature=")).json()["error"]["code"] == "invalid_signature"


def test_the_access_log_redacts_signatures_by_their_decoded_names():
    assert redact_query("/f/x.csv?expires=9&signature=abc") == "/f/x.csv?expires=9&signature=[redacted]"
    assert redact_query("/f?expires=9&%73ignature=abc") == "/f?expires=9&%73ignature=[redacted]"
    assert redact_query("/f?%53IGNATURE=abc;X-Amz-Signature=def&signature=ghi") == \
        "/f?%53IGNATURE=[redacted];X-Amz-Signature=[redacted]&signature=[redacted]"
    assert redact_query("/f?designature=kept&a=1") == "/f?designature=kept&a=1"
    assert redact_query("/healthz") == "/healthz"


def test_links_follow_the_port_the_api_listens_on_unless_the_public_url_is_set():
    settings = dataclasses.replace(load_settings({}), api_port=18931)
    assert public_url(settings) == "http://127.0.0.1:18931"
    assert public_url(dataclasses.replace(settings, api_host="0.0.0.0")) == "http://127.0.0.1:18931"
    assert public_url(dataclasses.replace(settings, api_host="::1")) == "http://[::1]:18931"
    explicit = load_settings({"ANALYTICS_API_PUBLIC_URL": "https://exports.example/", "ANALYTICS_API_PORT": "18931"})
    assert public_url(explicit) == "https://exports.example"


def test_an_unexpected_error_is_answered_once_in_the_error_shape_and_audited(start_api, warehouse_url, caplog):
    def add_broken_route(app) -> None:
        @app.get("/analytics/v1/broken", name="broken_route")
        def broken() -> None:
            raise RuntimeError("a bug nobody has found yet")

    api = start_api(warehouse_url, customize=add_broken_route)
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.ERROR):
            first = api.client.get("/analytics/v1/broken")
            second = api.client.get("/healthz")  # the same connection, still open
    finally:
        uvicorn_log.removeHandler(caplog.handler)
    assert first.status_code == 500 and first.headers["content-type"] == "application/json"
    assert first.json()["error"] == {"code": "internal_error", "message": "an unexpected error occurred; it was logged"}
    assert "a bug" not in first.text and first.headers.get("connection", "keep-alive") != "close"
    assert second.status_code == 200
    tracebacks = [record for record in caplog.records if record.exc_info]
    assert len(tracebacks) == 1 and tracebacks[0].name == "analytics_pipeline.api"
    with connect(api.database_url) as conn:
        audited = conn.execute("SELECT action, status_code, outcome FROM analytics_api_audit "
                               "ORDER BY audit_id DESC LIMIT 1").fetchone()
    assert audited == ("broken_route", 500, "internal_error")


@pytest.mark.parametrize(("path", "code"), [
    ("usage?end=9999-12-31", "invalid_time"), ("usage?start=9999-12-31", "invalid_time"),
    ("usage?start=0001-01-01&end=0001-01-05", "invalid_time"), ("performance?end=1999-12-31", "invalid_time"),
    ("costs?month=0001-01", "invalid_time"), ("costs?month=9999-12", "invalid_time"),
    ("costs?month=3000-01", "invalid_time"), ("costs?month=2024-13", "invalid_month"),
])
def test_the_portal_refuses_days_off_the_accepted_calendar_with_its_error_page(hostile, path, code):
    api, token, _, _ = hostile
    client = sign_in(api, token)
    response = client.get(f"/portal/orgs/{ORG}/{path}")
    assert response.status_code == 422 and f"<code>{code}</code>" in response.text


def test_the_portal_pages_at_the_edges_of_the_accepted_calendar(hostile):
    api, token, _, _ = hostile
    client = sign_in(api, token)
    for path in ("usage?end=2999-12-31", "usage?start=2000-01-01", "costs?month=2999-12", "costs?month=2000-01",
                 "performance?end=2000-01-05"):
        assert client.get(f"/portal/orgs/{ORG}/{path}").status_code == 200, path
    finance = sign_in(api, api.key(None, name="finance", finance=True)[0])
    for path in ("/portal/internal/business?month=9999-12", "/portal/internal/sre?end=9999-12-31",
                 "/portal/status?day=9999-12-31", "/portal/status?day=0001-01-01"):
        assert finance.get(path).status_code == 422, path
    form = client.get(f"/portal/orgs/{ORG}/exports").text
    response = client.post(f"/portal/orgs/{ORG}/exports", data={
        "csrf_token": hidden(form, "csrf_token"), "request_token": hidden(form, "request_token"),
        "start": "9999-12-01", "end": "9999-12-31", "granularity": "daily", "by_model": "on"})
    assert response.status_code == 422 and "outside the days this API accepts" in response.text
