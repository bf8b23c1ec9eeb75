"""One error shape for every refusal, ``{"error": {"code": ..., "message": ...}}``, and the
handlers that give every failure that shape: the API's own refusals (:class:`ApiError`),
request validation (422; malformed JSON 400), bodies over 64 KiB (413), unknown routes and
methods (404/405, a 405's ``Allow`` naming every method of the path), the warehouse being down
(503). Every refusal is audited (but a portal page asking a browser without a session to sign in).

A body is refused only once the route's own dependencies that need no body (its authentication,
its organization's scope) have passed: FastAPI parses a JSON body before it resolves
dependencies, so a malformed one is first authenticated as the route would (:func:`_refusal_first`),
and a caller without a key, or with another organization's, gets 401/403, never 400.

An unexpected exception is answered 500 ``internal_error`` in the same shape by
:class:`UnexpectedErrorMiddleware`: logged once with its traceback, audited, and kept from
uvicorn (which would log it again and close the keep-alive connection).

Under ``/portal`` the same refusal (status, code, message) is rendered as a page instead, by
the renderer the portal installs (``ApiServices.html_refusal``): a 401 sends the browser to the
sign-in form, anything else is the portal's error page."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import orjson
import psycopg
import psycopg_pool
from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import solve_dependencies
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from analytics_pipeline.api.audit import request_context, write_audit

if TYPE_CHECKING:  # for the annotations only: the services import this module (through the download links)
    from analytics_pipeline.api.services import ApiServices

MAX_BODY_BYTES = 64 * 1024
logger = logging.getLogger("analytics_pipeline.api")


class JsonResponse(Response):
    """JSON rendered by orjson: UUIDs as strings, datetimes (UTC: the warehouse's sessions are)
    as ``YYYY-MM-DDTHH:MM:SSZ``, the contract's form."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_UTC_Z | orjson.OPT_OMIT_MICROSECONDS)


class ApiError(Exception):
    """A refusal: its HTTP status, a stable code, and one sentence for a person."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None, *,
                 audit: bool = True) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers, self.audit = status, code, message, headers, audit


class BodyTooLarge(Exception):
    pass


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JsonResponse:
    return JsonResponse(error_body(code, message), status_code=status, headers=headers)


#: Errors documented in the OpenAPI document for each status.
ERROR_DESCRIPTIONS = {
    400: "Malformed JSON (`malformed_json`), or a body that could not be read (`malformed_body`).",
    401: "Missing, malformed, unknown, revoked or expired API key (`missing_api_key`, `invalid_api_key`, "
         "`revoked_api_key`, `expired_api_key`).",
    403: "The organization is outside the key's scope (`organization_out_of_scope`), or a download link's "
         "signature is wrong (`invalid_signature`).",
    404: "No such export job in this organization (`export_not_found`), or no such route (`not_found`; a path "
         "with a trailing slash is not redirected).",
    409: "The export has not succeeded (yet) (`export_not_ready`), or an Idempotency-Key was reused for a "
         "different request (`idempotency_key_reused`).",
    410: "The download link expired 24 h after the export completed, or retention deleted the file: request a "
         "new export (`download_expired`, `export_expired`).",
    413: "The request body is over 64 KiB (`body_too_large`).",
    415: "The body is not JSON (`unsupported_media_type`).",
    422: "The request is invalid; the code names the rule it broke (`invalid_time`: not an ISO 8601 time, or "
         "outside 2000-01-01T00:00:00Z..3000-01-01T00:00:00Z; `range_too_long`, `invalid_job_id`, ...).",
    429: "The organization has 10 export jobs pending or running (`too_many_active_jobs`); see Retry-After.",
    503: "The warehouse is unavailable (`warehouse_unavailable`).",
}


class BodyLimitMiddleware:
    """Refuses (413) a request whose body is over ``limit`` bytes: by its Content-Length at
    once, or as it streams in (chunked bodies). The paths in ``own_limits`` (the ingestion
    routes) cap their bodies themselves."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES, own_limits: frozenset[str] = frozenset()) -> None:
        self.app, self.limit, self.own_limits = app, limit, own_limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.own_limits:
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                scope.setdefault("state", {})["body_too_large"] = True
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if scope.get("state", {}).get("body_too_large"):
                raise BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge()
            return message

        await self.app(scope, limited_receive, send)


def _validation_code(error: dict) -> tuple[int, str]:
    kind, loc = error.get("type", ""), tuple(error.get("loc", ()))
    if kind == "json_invalid":
        return 400, "malformed_json"
    where = loc[0] if loc else ""
    name = str(loc[-1]) if len(loc) > 1 else ""
    if where == "query":
        return 422, f"invalid_{name.lower()}" if name else "invalid_query"
    if where == "header":
        return 422, "invalid_idempotency_key" if name.lower() == "idempotency-key" else "invalid_header"
    if where == "path":
        return 422, {"jobId": "invalid_job_id", "orgId": "invalid_organization_id"}.get(name, "invalid_path")
    if where == "body":
        if len(loc) == 1:
            return 422, "missing_body" if kind == "missing" else "invalid_body"
        return 422, {"missing": "missing_field", "extra_forbidden": "unknown_field"}.get(kind, "invalid_field")
    return 422, "invalid_request"


def _validation_message(error: dict) -> str:
    loc = [str(part) for part in error.get("loc", ())]
    if error.get("type") == "json_invalid":
        return f"the body is not valid JSON ({error.get('ctx', {}).get('error', 'syntax error')})"
    where = {"body": "body", "query": "query parameter", "header": "header", "path": "path"}.get(loc[0] if loc else "",
                                                                                               "request")
    field = ".".join(loc[1:])
    return f"{where} {field}: {error.get('msg', 'invalid')}" if field else f"{where}: {error.get('msg', 'invalid')}"


def _action_of(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "name", None) or "unknown_route"


def _audit_refusal(request: Request, services: ApiServices, status: int, code: str) -> None:
    entry = request_context(request).entry(at=services.clock(), action=_action_of(request), status_code=status,
                                           outcome=code)
    try:
        with services.pool.connection() as conn:
            write_audit(conn, entry)
    except (psycopg.Error, psycopg_pool.PoolTimeout) as error:
        logger.warning("refused request not audited (warehouse unavailable: %s): %s %s -> %s", type(error).__name__,
                       entry.action, entry.status_code, entry.outcome)


PORTAL_PREFIX = "/portal"


def _html_renderer(request: Request, services: ApiServices):
    renderer = services.html_refusal
    path = request.url.path
    return renderer if renderer is not None and (path == PORTAL_PREFIX or path.startswith(PORTAL_PREFIX + "/")) \
        else None


async def _refuse(request: Request, services: ApiServices, status: int, code: str, message: str,
                  headers: dict[str, str] | None = None, *, audit: bool = True) -> Response:
    if audit:
        await run_in_threadpool(_audit_refusal, request, services, status, code)
    renderer = _html_renderer(request, services)
    if renderer is not None:
        return renderer(request, status, code, message, headers)
    return error_response(status, code, message, headers)


def _reads_body(dependant: Dependant) -> bool:
    return bool(dependant.body_params) or any(_reads_body(sub) for sub in dependant.dependencies)


async def _refusal_first(request: Request) -> ApiError | None:
    """The refusal the route's dependencies that need no body give (its authentication, its
    organization's scope), resolved as the route resolves them; None when they pass."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    if dependant is None:
        return None
    before_body = Dependant(path=dependant.path, call=dependant.call,
                            dependencies=[sub for sub in dependant.dependencies if not _reads_body(sub)])
    async with AsyncExitStack() as stack:
        try:
            await solve_dependencies(request=request, dependant=before_body, body=None, async_exit_stack=stack,
                                     embed_body_fields=False)
        except ApiError as error:
            return error
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout):
            return ApiError(503, "warehouse_unavailable", "the warehouse is unavailable; retry in a minute",
                            {"Retry-After": "30"}, audit=False)
    return None


#: The methods a 405's ``Allow`` may name.
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> str:
    """Every method some route of the app takes on the request's path (Starlette's 405 names the
    methods of the first route of the path only), probed through each route's own matching."""
    allowed = []
    for method in HTTP_METHODS:
        probe = {"type": "http", "path": request.scope["path"], "root_path": request.scope.get("root_path", ""),
                 "method": method, "headers": []}
        if any(route.matches(probe)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


def install_error_handlers(app: FastAPI, services: ApiServices) -> None:
    """Every failure in the one error shape (a page under ``/portal``), audited with ``services``' warehouse."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> Response:
        return await _refuse(request, services, error.status, error.code, error.message, error.headers,
                             audit=error.audit)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        errors = list(error.errors()) or [{}]
        status, code = _validation_code(errors[0])
        if code == "malformed_json":  # parsed before the dependencies ran: they refuse first
            first = await _refusal_first(request)
            if first is not None:
                return await api_error(request, first)
        content_type = request.headers.get("content-type", "")
        if code == "invalid_body" and "json" not in content_type.lower():
            return await _refuse(request, services, 415, "unsupported_media_type",
                                 "send the body as JSON, with Content-Type: application/json")
        return await _refuse(request, services, status, code, _validation_message(errors[0]))

    @app.exception_handler(BodyTooLarge)
    async def body_too_large(request: Request, error: BodyTooLarge) -> Response:
        return await _refuse(request, services, 413, "body_too_large",
                             f"the request body is over {MAX_BODY_BYTES // 1024} KiB")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if isinstance(error.__cause__, BodyTooLarge):  # FastAPI wraps what reading the body raised
            return await body_too_large(request, error.__cause__)
        if error.status_code == 400:  # a body FastAPI could not decode, before the dependencies ran
            first = await _refusal_first(request)
            if first is not None:
                return await api_error(request, first)
            return await _refuse(request, services, 400, "malformed_body", "the request body could not be read")
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        message = {404: f"no such resource: {request.url.path}",
                   405: f"{request.method} is not allowed on {request.url.path}"}.get(error.status_code,
                                                                                      str(error.detail))
        headers = getattr(error, "headers", None)
        if error.status_code == 405:
            headers = {**(headers or {}), "Allow": _allowed_methods(request)}
        return await _refuse(request, services, error.status_code, code, message, headers)

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(psycopg_pool.PoolTimeout)
    async def warehouse_down(request: Request, error: Exception) -> Response:
        logger.error("warehouse unavailable: %s: %s", type(error).__name__, error)
        return await _refuse(request, services, 503, "warehouse_unavailable",
                             "the warehouse is unavailable; retry in a minute", {"Retry-After": "30"}, audit=False)



class UnexpectedErrorMiddleware:
    """Answers an exception no handler took: 500 ``internal_error`` in the one error shape (the
    portal's error page under ``/portal``), logged once with its traceback and audited. The
    exception stops here: re-raised, uvicorn would log it a second time and close the connection.
    Installed innermost, next to the handlers, so the request's route and state are known."""

    def __init__(self, app: ASGIApp, services: ApiServices) -> None:
        self.app, self.services = app, services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except Exception:
            request = Request(scope)
            logger.exception("unexpected error on %s %s", request.method, request.url.path)
            if started:  # too late for an answer: the response is cut short
                return
            response = await _refuse(request, self.services, 500, "internal_error",
                                     "an unexpected error occurred; it was logged")
            await response(scope, receive, send)
