"""Signing in and out, and the portal's front door.

``GET /portal/sign-in`` shows a form where a person pastes an API key; the form carries a
random token also set in a short-lived cookie (a double submit, so another site cannot sign a
browser in with a key of its own). ``POST /portal/sign-in`` checks the key exactly as the API
does (:func:`verified_key`), opens a portal session and sets its id in the session cookie
(HttpOnly, SameSite=Lax, Secure over TLS, 24 h); the key goes no further. ``POST
/portal/sign-out`` (CSRF-checked) ends the session and clears the cookie."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from analytics_pipeline.api.audit import RequestContext, write_audit
from analytics_pipeline.api.deps import (
    SESSION_COOKIE,
    AuditContext,
    CsrfForm,
    PortalSessionDep,
    Services,
    optional_portal_session,
    verified_key,
)
from analytics_pipeline.api.errors import ApiError
from analytics_pipeline.api.keys import ApiKey
from analytics_pipeline.api.portal.forms import read_form
from analytics_pipeline.api.portal.pages import SIGN_IN_REASONS, render, safe_next
from analytics_pipeline.api.portal.sessions import end_session, open_session
from analytics_pipeline.api.security import tokens_equal
from analytics_pipeline.api.services import ApiServices

router = APIRouter(prefix="/portal", include_in_schema=False)
SIGN_IN_COOKIE = "analytics_portal_sign_in"
SIGN_IN_PATH = "/portal/sign-in"

#: What the form says when the key is refused (never the key itself), by the refusal's code.
KEY_REFUSALS = {
    "missing_api_key": "Paste an API key (ak_…).",
    "invalid_api_key": "That is not a valid API key.",
    "revoked_api_key": "That API key was revoked.",
    "expired_api_key": "That API key has expired.",
}


def secure_cookies(request: Request, services: ApiServices) -> bool:
    """Cookies are Secure when the portal is served over TLS (the request's scheme, which uvicorn takes
    from a trusted proxy's X-Forwarded-Proto) or its public URL is https."""
    return request.url.scheme == "https" or services.links.public_url.startswith("https://")


def landing_page(key: ApiKey) -> str:
    """Where a session starts: a customer's usage, or the business page for a finance-wide key."""
    if key.organization_id is not None:
        return f"/portal/orgs/{key.organization_id}/usage"
    return "/portal/internal/business"


#: ``/``, the API's root: a newcomer who opens the server's address lands on the portal.
front_door = APIRouter(include_in_schema=False)


@front_door.get("/", name="front_door")
async def front(request: Request) -> Response:
    """303 to the portal (its front door picks the sign-in form or the session's landing page)."""
    return RedirectResponse("/portal/", status_code=303, headers={"Cache-Control": "no-store"})


@router.get("", name="portal_root")
@router.get("/", name="portal_home")
async def home(request: Request) -> Response:
    """The portal's front door: the session's landing page, or the sign-in form."""
    session = await optional_portal_session(request)
    target = landing_page(session.key) if session else SIGN_IN_PATH
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


def _sign_in_form(request: Request, services: ApiServices, *, message: str | None = None, notice: str | None = None,
                  next_path: str | None = None, status: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "sign_in.html", {
        "form_token": token, "message": message, "notice": notice,
        "next_path": next_path if safe_next(next_path) else ""}, status=status)
    response.set_cookie(SIGN_IN_COOKIE, token, max_age=3600, path=SIGN_IN_PATH, httponly=True, samesite="strict",
                        secure=secure_cookies(request, services))
    return response


@router.get("/sign-in", name="portal_sign_in_form")
async def sign_in_form(request: Request, services: Services,
                       reason: Annotated[str | None, Query(max_length=64)] = None,
                       next_path: Annotated[str | None, Query(alias="next", max_length=512)] = None) -> Response:
    """The sign-in form (``reason`` says why the browser was sent here, ``next`` where it was going)."""
    return _sign_in_form(request, services, notice=SIGN_IN_REASONS.get(reason or ""), next_path=next_path)


def _audit_sign_in(services: ApiServices, audit: RequestContext, outcome: str, status: int,
                   key_id: str | None) -> None:
    with services.pool.connection() as conn:
        write_audit(conn, audit.entry(at=services.clock(), action="portal_sign_in", status_code=status,
                                      outcome=outcome, key_id=key_id))


def _open(request: Request, services: ApiServices, audit: RequestContext, key: ApiKey) -> tuple[str, datetime]:
    with services.pool.connection() as conn:
        opened = open_session(conn, key, services.clock(), lifetime=services.portal_session_lifetime,
                              client_address=audit.client_address, replacing=request.cookies.get(SESSION_COOKIE))
        write_audit(conn, audit.entry(at=services.clock(), action="portal_sign_in", status_code=303, outcome="ok",
                                      key_id=key.key_id))
    return opened


@router.post("/sign-in", name="portal_sign_in")
async def sign_in(request: Request, services: Services, audit: AuditContext) -> Response:
    """Exchanges the pasted key for a portal session (303 to the page asked for, or the landing page);
    the form again, without the key, when it is refused."""
    fields = await read_form(request)
    next_path = fields.get("next", "")
    if not tokens_equal(request.cookies.get(SIGN_IN_COOKIE), fields.get("form_token")):
        await run_in_threadpool(_audit_sign_in, services, audit, "invalid_csrf_token", 403, None)
        return _sign_in_form(request, services, message="The sign-in form expired or did not come from this "
                                                        "portal: paste the key again.",
                             next_path=next_path, status=403)
    token = fields.get("api_key", "").strip() or None
    try:
        key = await verified_key(request, token)
    except ApiError as error:
        await run_in_threadpool(_audit_sign_in, services, audit, error.code, 401, audit.key_id)
        return _sign_in_form(request, services, message=KEY_REFUSALS.get(error.code, "That API key cannot sign in."),
                             next_path=next_path, status=401)
    if key.may_ingest:  # an ingest key sends events and reads nothing: no session to open
        await run_in_threadpool(_audit_sign_in, services, audit, "ingest_key_cannot_read", 403, key.key_id)
        return _sign_in_form(request, services, message="That is an ingest key: it sends events and reads nothing. "
                                                        "Sign in with a key of your organization.",
                             next_path=next_path, status=403)
    session_id, _ = await run_in_threadpool(_open, request, services, audit, key)
    target = next_path if safe_next(next_path) else landing_page(key)
    response = RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
    # Max-Age, not Expires: the browser counts the lifetime on its own clock (the warehouse holds the real expiry).
    lifetime = int(services.portal_session_lifetime.total_seconds())
    response.set_cookie(SESSION_COOKIE, session_id, max_age=lifetime, path="/portal", httponly=True,
                        samesite="lax", secure=secure_cookies(request, services))
    response.delete_cookie(SIGN_IN_COOKIE, path=SIGN_IN_PATH)
    return response


@router.post("/sign-out", name="portal_sign_out")
def sign_out(request: Request, services: Services, session: PortalSessionDep, form: CsrfForm) -> Response:
    """Ends the session (CSRF-checked) and clears its cookie."""
    with services.pool.connection() as conn:
        end_session(conn, session.session_id, services.clock())
    response = RedirectResponse(f"{SIGN_IN_PATH}?reason=signed_out", status_code=303,
                                headers={"Cache-Control": "no-store"})
    response.delete_cookie(SESSION_COOKIE, path="/portal", httponly=True, samesite="lax",
                           secure=secure_cookies(request, services))
    return response
