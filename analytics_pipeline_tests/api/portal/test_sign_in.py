"""Signing in and out over HTTP: the key is exchanged for a session cookie and goes nowhere else;
the cookie's attributes; refused keys and forms; sign-out, revocation and expiry end sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from analytics_pipeline.api.keys import revoke_key
from analytics_pipeline.api.security import parse_key
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.api.data import ORG
from analytics_pipeline_tests.api.portal.helpers import SESSION_COOKIE, hidden, portal_client, sign_in


def _set_cookies(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.get_list("set-cookie")}


def _sign_in_response(api, token: str, **headers):
    client = portal_client(api, **headers)
    form = client.get("/portal/sign-in")
    response = client.post("/portal/sign-in", data={"api_key": token, "form_token": hidden(form.text, "form_token")})
    return client, form, response


def test_a_key_is_exchanged_for_an_http_only_lax_session_cookie_and_appears_nowhere(api):
    token, key_id = api.key(ORG)
    client, form, response = _sign_in_response(api, token)
    assert response.status_code == 303 and response.headers["location"] == f"/portal/orgs/{ORG}/usage"
    cookie = _set_cookies(response)[SESSION_COOKIE]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "max-age", "path"} <= attributes and "secure" not in attributes  # plain http here
    assert "Max-Age=86400" in cookie and "Path=/portal" in cookie and "SameSite=lax" in cookie
    _, secret = parse_key(token)  # the secret itself may contain "_"
    page = client.get(f"/portal/orgs/{ORG}/usage")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for text in (cookie, page.text, response.headers.get("location", ""), form.text):
        assert token not in text and secret not in text
    assert all(secret not in value for value in client.cookies.values())
    # Only the session id's digest is stored; the session names its key.
    with connect(api.database_url, autocommit=True) as conn:
        stored = conn.execute("SELECT key_id, length(session_sha256), expires_at - created_at "
                              "FROM analytics_portal_sessions").fetchall()
        audited = conn.execute("SELECT outcome FROM analytics_api_audit WHERE action = 'portal_sign_in'").fetchall()
    assert stored == [(key_id, 32, timedelta(hours=24))] and audited == [("ok",)]


def test_the_cookie_is_secure_when_the_portal_is_served_over_tls(api):
    token, _ = api.key(ORG)
    client = portal_client(api, **{"X-Forwarded-Proto": "https"})  # as from a TLS-terminating proxy on loopback
    form = client.get("/portal/sign-in")
    assert "Secure" in _set_cookies(form)["analytics_portal_sign_in"]
    form_token = hidden(form.text, "form_token")
    # The client speaks plain http to the proxy's side, so it would not send Secure cookies: sent by hand.
    response = client.post("/portal/sign-in", data={"api_key": token, "form_token": form_token},
                           headers={"Cookie": f"analytics_portal_sign_in={form_token}"})
    assert response.status_code == 303
    assert "Secure" in _set_cookies(response)[SESSION_COOKIE]


@pytest.mark.parametrize(("pasted", "says"), [("", "Paste an API key"), ("ak_nonsense", "not a valid API key"),
                                              ("ak_0123456789ab_" + "x" * 43, "not a valid API key")])
def test_a_refused_key_gets_the_form_again_without_the_key_and_no_session(api, pasted, says):
    client, _, response = _sign_in_response(api, pasted)
    assert response.status_code == 401 and says in response.text
    assert SESSION_COOKIE not in _set_cookies(response)
    if pasted:
        assert pasted not in response.text
    assert client.get(f"/portal/orgs/{ORG}/usage").status_code == 303


def test_a_revoked_key_cannot_sign_in(api):
    token, key_id = api.key(ORG)
    with connect(api.database_url, autocommit=True) as conn:
        revoke_key(conn, key_id, api.clock.now)
    _, _, response = _sign_in_response(api, token)
    assert response.status_code == 401 and "revoked" in response.text


def test_sign_in_needs_the_form_token_of_its_own_cookie(api):
    token, _ = api.key(ORG)
    client = portal_client(api)
    client.get("/portal/sign-in")
    forged = client.post("/portal/sign-in", data={"api_key": token, "form_token": "not-the-cookie"})
    assert forged.status_code == 403 and SESSION_COOKIE not in _set_cookies(forged)
    bare = portal_client(api).post("/portal/sign-in", data={"api_key": token, "form_token": "x" * 32})
    assert bare.status_code == 403


def test_a_page_without_a_session_sends_the_browser_to_sign_in_and_back(api):
    token, _ = api.key(ORG)
    client = portal_client(api)
    response = client.get(f"/portal/orgs/{ORG}/costs?month=2024-01")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/portal/sign-in?reason=sign_in_required&next=")
    form = client.get(response.headers["location"])
    assert "Sign in with an API key to see this page." in form.text
    signed = client.post("/portal/sign-in", data={"api_key": token, "form_token": hidden(form.text, "form_token"),
                                                  "next": hidden(form.text, "next")})
    assert signed.headers["location"] == f"/portal/orgs/{ORG}/costs?month=2024-01"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/portal/orgs/x", "/portal/../x",
                                    "/analytics/v1/orgs"])
def test_sign_in_never_sends_the_browser_off_the_portal(api, target):
    token, _ = api.key(ORG)
    client = portal_client(api)
    form = client.get("/portal/sign-in")
    response = client.post("/portal/sign-in", data={"api_key": token, "form_token": hidden(form.text, "form_token"),
                                                    "next": target})
    assert response.headers["location"] == f"/portal/orgs/{ORG}/usage"


def test_sign_out_needs_the_csrf_token_then_ends_the_session_for_good(api):
    token, _ = api.key(ORG)
    client = sign_in(api, token)
    page = client.get(f"/portal/orgs/{ORG}/usage")
    session_id = client.cookies[SESSION_COOKIE]
    for form in ({}, {"csrf_token": "0" * 64}):
        refused = client.post("/portal/sign-out", data=form)
        assert refused.status_code == 403 and "invalid_csrf_token" in refused.text
    assert client.get(f"/portal/orgs/{ORG}/usage").status_code == 200
    response = client.post("/portal/sign-out", data={"csrf_token": hidden(page.text, "csrf_token")})
    assert response.status_code == 303 and response.headers["location"] == "/portal/sign-in?reason=signed_out"
    assert 'Max-Age=0' in _set_cookies(response)[SESSION_COOKIE] or "expires=" in _set_cookies(response)[
        SESSION_COOKIE].lower()
    # A copy of the old cookie no longer opens anything: the session ended on the server.
    replayed = portal_client(api)
    replayed.cookies.set(SESSION_COOKIE, session_id, path="/portal")
    assert replayed.get(f"/portal/orgs/{ORG}/usage").headers["location"].startswith(
        "/portal/sign-in?reason=session_ended")


def test_signing_in_again_ends_the_browsers_previous_session(api):
    token, _ = api.key(ORG)
    client = sign_in(api, token)
    first = client.cookies[SESSION_COOKIE]
    sign_in(api, token, client=client)
    second = client.cookies[SESSION_COOKIE]
    assert second != first and client.get(f"/portal/orgs/{ORG}/usage").status_code == 200
    replayed = portal_client(api)
    replayed.cookies.set(SESSION_COOKIE, first, path="/portal")
    assert replayed.get(f"/portal/orgs/{ORG}/usage").headers["location"].startswith(
        "/portal/sign-in?reason=session_ended")


def test_revoking_the_key_ends_its_sessions_at_once(api):
    token, key_id = api.key(ORG)
    client = sign_in(api, token)
    assert client.get(f"/portal/orgs/{ORG}/usage").status_code == 200
    with connect(api.database_url, autocommit=True) as conn:
        revoke_key(conn, key_id, api.clock.now)
    response = client.get(f"/portal/orgs/{ORG}/usage")
    assert response.status_code == 303 and "reason=revoked_api_key" in response.headers["location"]


def test_a_session_lasts_24_hours_and_no_longer_than_its_key(api):
    token, _ = api.key(ORG)
    client = sign_in(api, token)
    api.clock.advance(timedelta(hours=23, minutes=59))
    assert client.get(f"/portal/orgs/{ORG}/usage").status_code == 200
    api.clock.advance(timedelta(minutes=1))
    assert "reason=session_ended" in client.get(f"/portal/orgs/{ORG}/usage").headers["location"]
    short, _ = api.key(ORG, expires_in=timedelta(hours=1))
    client = sign_in(api, short)
    api.clock.advance(timedelta(hours=1))
    assert "reason=expired_api_key" in client.get(f"/portal/orgs/{ORG}/usage").headers["location"]


def test_the_front_door_lands_each_key_on_its_pages(api):
    assert portal_client(api).get("/portal/").headers["location"] == "/portal/sign-in"
    token, _ = api.key(ORG)
    assert sign_in(api, token).get("/portal/").headers["location"] == f"/portal/orgs/{ORG}/usage"
    finance, _ = api.key(None, finance=True)
    assert sign_in(api, finance).get("/portal").headers["location"] == "/portal/internal/business"
