"""The dependencies routes declare, once each, as in FastAPI's full-stack template's ``deps.py``:
the API's services (:data:`Services`: settings, "now", download links, made once at startup;
this module is the one reader of ``app.state``), the settings (:data:`ApiSettings`), the
request's audit context (:data:`AuditContext`), the download links (:data:`Links`), the
warehouse connection, the authenticated key, and the organization scope every
``/orgs/{orgId}`` route takes (a route without :data:`OrgScope` cannot reach an
organization's data); for the portal's pages, the session
(:data:`PortalSessionDep`), its organization scope (:data:`PortalOrgScope`, the same check as
:data:`OrgScope`), the internal pages' finance-wide session (:data:`InternalSession`) and the
CSRF-checked form of a state-changing request (:data:`CsrfForm`).

FastAPI runs a sync dependency in its thread pool, a hop of its own each (and a generator
dependency in an exit stack of its own): these are ``async`` and run on the event loop. A key
found in the key cache needs no lookup (else it is looked up in the thread pool), the scope
check is pure, and a route's connection is taken by the route on the thread of its queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import AsyncConnectionPool, ConnectionPool
from starlette.concurrency import run_in_threadpool

from analytics_pipeline.api.audit import RequestContext, request_context
from analytics_pipeline.api.downloads import DownloadLinks
from analytics_pipeline.api.errors import ApiError
from analytics_pipeline.api.keys import FINANCE_SCOPE, ApiKey, find_key
from analytics_pipeline.api.portal.forms import read_form
from analytics_pipeline.api.portal.sessions import find_session
from analytics_pipeline.api.security import (
    csrf_token,
    csrf_token_valid,
    parse_key,
    secret_matches,
    well_formed_session_id,
)
from analytics_pipeline.api.services import ApiServices
from analytics_pipeline.identity import ORGANIZATION_ID_PATTERN, UnsafeOrganizationIdError, checked_organization_id
from analytics_pipeline.settings import Settings


def services_of(request: Request) -> ApiServices:
    """The app's services (set once, by create_app)."""
    return request.app.state.services


async def api_services(request: Request) -> ApiServices:
    return services_of(request)


def _service(name: str):
    """The dependency that gives the services' ``name`` (an attribute read, on the event loop)."""
    async def dependency(request: Request):
        return getattr(services_of(request), name)

    dependency.__name__ = name
    return dependency


async def audit_context(request: Request) -> RequestContext:
    """The request's audit context: the key, organization and job its audit entries name, and its client."""
    return request_context(request)


#: Everything the API is served with (what the dependencies below each give one part of).
Services = Annotated[ApiServices, Depends(api_services)]
#: The settings (a route's limits: the active-job cap, ...).
ApiSettings = Annotated[Settings, Depends(_service("settings"))]
#: What the request's audit entries name (refusals are audited with it too).
AuditContext = Annotated[RequestContext, Depends(audit_context)]
#: What signs the links to finished exports' files.
Links = Annotated[DownloadLinks, Depends(_service("links"))]
#: The warehouse's connection pool. A route takes its connection (autocommit) inside its own sync
#: body, ``with warehouse.connection() as conn``, on the thread that runs its queries.
Warehouse = Annotated[ConnectionPool, Depends(_service("pool"))]
#: The asyncio pool of the hot reads (a job, a page of jobs): ``async with pool.connection()``.
ReadWarehouse = Annotated[AsyncConnectionPool, Depends(_service("read_pool"))]
#: "Now" (tests freeze it).
Clock = Annotated[Callable[[], datetime], Depends(_service("clock"))]

_bearer = HTTPBearer(auto_error=False, description="An API key, `ak_<key_id>_<secret>` "
                                                   "(`analytics-pipeline api-keys create`).")


def _find_key(pool: ConnectionPool, key_id: str) -> ApiKey | None:
    with pool.connection() as conn:
        return find_key(conn, key_id)


async def verified_key(request: Request, token: str | None) -> ApiKey:
    """The stored, usable key of ``token`` (``ak_<key_id>_<secret>``): the one check of a key, for
    the API's ``Authorization: Bearer`` and the portal's sign-in form alike. ApiError 401 when
    it is missing, malformed, unknown, revoked or expired. Its row comes from the key cache, or
    from the warehouse (in the thread pool). (The pool and the clock are read from the services, not
    declared: every dependency costs each request.)"""
    services = services_of(request)
    if token is None:
        raise ApiError(401, "missing_api_key", "send an API key: Authorization: Bearer ak_<key_id>_<secret>",
                       {"WWW-Authenticate": "Bearer"})
    parsed = parse_key(token)
    if parsed is None:
        raise ApiError(401, "invalid_api_key", "the API key is malformed (expected ak_<key_id>_<secret>)",
                       {"WWW-Authenticate": "Bearer"})
    key_id, secret = parsed
    cache = services.key_cache
    key = cache.get(key_id)
    if key is None:
        key = await run_in_threadpool(_find_key, services.pool, key_id)
        if key is not None:
            cache.put(key)
    if key is None or not secret_matches(secret, key.secret_sha256):
        raise ApiError(401, "invalid_api_key", "the API key is not valid", {"WWW-Authenticate": "Bearer"})
    request_context(request).key_id = key.key_id
    refuse_unusable(key, services.clock())
    return key


def refuse_unusable(key: ApiKey, now: datetime) -> None:
    """ApiError 401 when ``key`` was revoked or has expired at ``now`` (a portal session's key too)."""
    if key.revoked_at is not None:
        raise ApiError(401, "revoked_api_key", "the API key was revoked; ask for a new one",
                       {"WWW-Authenticate": "Bearer"})
    if not key.usable_at(now):
        raise ApiError(401, "expired_api_key", "the API key expired; ask for a new one",
                       {"WWW-Authenticate": "Bearer"})


async def authenticated_key(request: Request,
                            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> ApiKey:
    """The key in ``Authorization: Bearer`` (:func:`verified_key`)."""
    return await verified_key(request, credentials.credentials if credentials is not None else None)


CurrentKey = Annotated[ApiKey, Depends(authenticated_key)]


@dataclass(frozen=True)
class Scope:
    """An authenticated key acting on one organization it may read."""

    key: ApiKey
    organization_id: str


#: The path's organization: documented with its pattern, checked by :func:`scope_of` (after the key's
#: scope, so a key learns nothing of an organization it may not read, not even whether its id is valid).
OrgIdPath = Annotated[str, Path(alias="orgId", max_length=128,
                                json_schema_extra={"pattern": f"^{ORGANIZATION_ID_PATTERN.pattern}$"})]


async def org_scope(request: Request, key: CurrentKey, org_id: OrgIdPath) -> Scope:
    """The organization of the path, when the key may read it: 403 otherwise."""
    return scope_of(request, key, org_id)


def scope_of(request: Request, key: ApiKey, org_id: str) -> Scope:
    """``key`` acting on ``org_id``: ApiError 403 when it may not read it, 422 for an unsafe id."""
    valid = _valid_organization_id(org_id)
    if valid:
        request_context(request).organization_id = org_id  # audited with a refusal too
    if not key.may_read(org_id):
        raise ApiError(403, "organization_out_of_scope", "this API key may not read that organization")
    if not valid:
        raise ApiError(422, "invalid_organization_id", f"the organization id is not {ORGANIZATION_ID_PATTERN.pattern}")
    return Scope(key, org_id)


def _valid_organization_id(org_id: str) -> bool:
    try:
        checked_organization_id(org_id)
    except UnsafeOrganizationIdError:
        return False
    return True


OrgScope = Annotated[Scope, Depends(org_scope)]


SESSION_COOKIE = "analytics_portal_session"


@dataclass(frozen=True)
class PortalSession:
    """A signed-in browser: its session's key, and the CSRF token of its forms."""

    key: ApiKey
    session_id: str
    csrf_token: str
    expires_at: datetime

    @property
    def internal(self) -> bool:
        """Whether the session may open the internal pages (a finance-wide key's)."""
        return self.key.scope == FINANCE_SCOPE


async def portal_session(request: Request) -> PortalSession:
    """The browser's portal session: 401 ``sign_in_required`` without one (the portal sends the
    browser to the sign-in form), ``session_ended`` when it ended or expired, and the key's own
    401s when the key was revoked or expired since sign-in (its sessions end with it)."""
    services = services_of(request)
    session_id = request.cookies.get(SESSION_COOKIE)
    if not well_formed_session_id(session_id):
        raise ApiError(401, "sign_in_required", "sign in with an API key of your organization", audit=False)
    now = services.clock()
    async with services.read_pool.connection() as conn:
        stored = await find_session(conn, session_id, now)
    if stored is None:
        raise ApiError(401, "session_ended", "your portal session ended or expired; sign in again", audit=False)
    context = request_context(request)
    context.key_id = stored.key.key_id
    refuse_unusable(stored.key, now)
    session = PortalSession(stored.key, session_id, csrf_token(services.links.signing_key, session_id),
                            stored.expires_at)
    context.portal_session = session  # the pages' navigation, the error page's too
    return session


PortalSessionDep = Annotated[PortalSession, Depends(portal_session)]


async def optional_portal_session(request: Request) -> PortalSession | None:
    """The browser's usable portal session, or None (pages open to everyone keep a signed-in
    visitor's navigation)."""
    try:
        return await portal_session(request)
    except ApiError:
        return None


OptionalPortalSession = Annotated[PortalSession | None, Depends(optional_portal_session)]


async def portal_org_scope(request: Request, session: PortalSessionDep, org_id: OrgIdPath) -> Scope:
    """The organization of a ``/portal/orgs/{orgId}`` page, when the session's key may read it:
    the API's own check (:func:`scope_of`), so a customer's session renders its organization only."""
    return scope_of(request, session.key, org_id)


PortalOrgScope = Annotated[Scope, Depends(portal_org_scope)]


async def internal_session(session: PortalSessionDep) -> PortalSession:
    """A session that may open the internal pages: a finance-wide key's (403 otherwise)."""
    if not session.internal:
        raise ApiError(403, "internal_pages_refused", "the internal pages need a session of a finance-wide key")
    return session


InternalSession = Annotated[PortalSession, Depends(internal_session)]


async def csrf_form(request: Request, session: PortalSessionDep) -> dict[str, str]:
    """The fields of a state-changing form, once its ``csrf_token`` is the session's (compared in
    constant time): 403 ``invalid_csrf_token`` otherwise. SameSite cookies alone are not relied on."""
    fields = await read_form(request)
    if not csrf_token_valid(services_of(request).links.signing_key, session.session_id, fields.get("csrf_token")):
        raise ApiError(403, "invalid_csrf_token", "the form's CSRF token is missing or wrong: reload the page and "
                                                  "send the form again")
    return fields


CsrfForm = Annotated[dict[str, str], Depends(csrf_form)]


def refuse_unless_ingest(key: ApiKey) -> ApiKey:
    """``key`` when it is an ingest key: ApiError 403 ``ingest_key_required`` otherwise (a reading
    key sends no events, as an ingest key reads nothing)."""
    if not key.may_ingest:
        raise ApiError(403, "ingest_key_required", "sending events needs an ingest key "
                                                   "(analytics-pipeline api-keys create --ingest)")
    return key


async def ingest_key(request: Request,
                     credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> ApiKey:
    """The ingest key in ``Authorization: Bearer`` (checked before the body is read)."""
    return refuse_unless_ingest(await authenticated_key(request, credentials))


IngestKey = Annotated[ApiKey, Depends(ingest_key)]
