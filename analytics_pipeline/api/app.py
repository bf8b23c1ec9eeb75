"""The export API's application: :func:`create_app` builds it from the settings, :func:`serve`
runs it on uvicorn (``analytics-pipeline api``).

At startup the warehouse is migrated (``ensure_migrated``) and a psycopg connection pool is
opened; it is closed at shutdown. "Now" comes from ``clock`` (tests freeze it). Secrets stay out
of the logs: uvicorn's access log never carries headers (so no ``Authorization``), and the
signatures of download links are redacted from the request lines it writes (by their decoded
names: ``%73ignature=`` is redacted too).

Signed download links name ``ANALYTICS_API_PUBLIC_URL``, or, unset, the address the API listens
on (:func:`public_url`: ``analytics-pipeline api --port 18931`` links to port 18931). Paths are
not redirected to their form with or without a trailing slash (Starlette's redirect would take
the ``Host`` header's word for where to send the client): they are 404 ``not_found``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import socket
import urllib.parse
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from analytics_pipeline.api.downloads import DownloadLinks
from analytics_pipeline.api.errors import BodyLimitMiddleware, UnexpectedErrorMiddleware, install_error_handlers
from analytics_pipeline.api.keys import KeyCache
from analytics_pipeline.api.portal import STATIC_DIR, SWAGGER_UI_VERSION
from analytics_pipeline.api.portal.pages import refusal as portal_refusal
from analytics_pipeline.api.portal.timing import ServerTiming
from analytics_pipeline.api.routes import exports, files, firehose, health, ingest, usage
from analytics_pipeline.api.routes import tracing as request_tracing
from analytics_pipeline.api.routes.portal import customer as portal_customer
from analytics_pipeline.api.routes.portal import exports as portal_exports
from analytics_pipeline.api.routes.portal import internal as portal_internal
from analytics_pipeline.api.routes.portal import oncall as portal_oncall
from analytics_pipeline.api.routes.portal import public as portal_public
from analytics_pipeline.api.routes.portal import signin as portal_signin
from analytics_pipeline.api.security import signing_key
from analytics_pipeline.api.services import ApiServices
from analytics_pipeline.settings import Settings, environment_for
from analytics_pipeline.storage.object_store import open_store
from analytics_pipeline.warehouse.database import SESSION_OPTIONS, resolve_database_url
from analytics_pipeline.warehouse.migrate import ensure_migrated, head_revision

if TYPE_CHECKING:
    import uvicorn

TITLE = "Analytics Export API"
VERSION = "1.0.0"
DESCRIPTION = """Finance self-serves usage and cost exports of its organization.

Authenticate with `Authorization: Bearer ak_<key_id>_<secret>` (`analytics-pipeline api-keys create`).
Create an export job (202), poll it until `succeeded`, then follow `.../download` (302) to a signed URL
valid until 24 h after the export completed. Every error is `{"error": {"code", "message"}}`.

Time ranges are `[start, end)`, at most 31 days, on boundaries of the granularity; an end 1 second
before a boundary (`2024-01-31T23:59:59Z`) is read as that boundary (`2024-02-01T00:00:00Z`), so the
inclusive and the exclusive form request the same month.
"""


def wall_clock() -> datetime:
    return datetime.now(UTC)


def _default_s3_client(endpoint_url: str | None = None):
    # The standard AWS chain: AWS_ENDPOINT_URL (MinIO, Linode), AWS_REGION, credentials.
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint_url,
                        config=Config(retries={"max_attempts": 5, "mode": "standard"}, signature_version="s3v4"))


def create_app(settings: Settings, *, clock: Callable[[], datetime] | None = None,
               s3_client_factory: Callable[[], object] | None = None, database_url: str | None = None) -> FastAPI:
    """The export API for ``settings``: the warehouse (``database_url``, default the settings'),
    the exports store, the signing key; ``clock`` is "now" (default: the wall clock)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = database_url or resolve_database_url(settings.database_url, settings.embedded_pgdata)
        ensure_migrated(url)
        pool = ConnectionPool(url, min_size=min(2, settings.api_pool_size), max_size=settings.api_pool_size,
                              kwargs={"autocommit": True, "options": SESSION_OPTIONS},
                              timeout=settings.api_pool_timeout_seconds, open=False, name="analytics-api")
        pool.open(wait=False)
        # The hot reads (a job, a page of jobs) run on the event loop, without a thread hop.
        read_pool = AsyncConnectionPool(url, min_size=min(2, settings.api_pool_size), max_size=settings.api_pool_size,
                                        kwargs={"autocommit": True, "options": SESSION_OPTIONS},
                                        timeout=settings.api_pool_timeout_seconds, open=False,
                                        name="analytics-api-reads")
        await read_pool.open(wait=False)
        # Ingested batches load in transactions of their own (temporary staging tables live per connection).
        ingest_pool = ConnectionPool(url, min_size=0, max_size=settings.api_pool_size,
                                     kwargs={"options": SESSION_OPTIONS}, timeout=settings.api_pool_timeout_seconds,
                                     open=False, name="analytics-api-ingest")
        ingest_pool.open(wait=False)
        services.pool, services.read_pool, services.ingest_pool = pool, read_pool, ingest_pool
        try:
            yield
        finally:
            await read_pool.close()
            ingest_pool.close()
            pool.close()

    app = FastAPI(title=TITLE, version=VERSION, description=DESCRIPTION, lifespan=lifespan, docs_url=None,
                  redoc_url=None, generate_unique_id_function=lambda route: route.name, redirect_slashes=False)
    exports_store = open_store(settings.exports_url, s3_client_factory=s3_client_factory or _default_s3_client)
    # Presigning makes no request: a client for the endpoint the downloads' browsers reach signs them.
    public = settings.api_download_s3_endpoint_url
    download_store = open_store(settings.exports_url, s3_client_factory=(
        lambda: _default_s3_client(public))) if public else exports_store
    links = DownloadLinks(exports_store=exports_store, download_store=download_store,
                          signing_key=signing_key(settings), public_url=public_url(settings))
    services = ApiServices(settings=settings, clock=clock or wall_clock, links=links, migration_head=head_revision(),
                           key_cache=KeyCache(settings.api_key_cache_seconds),
                           html_refusal=portal_refusal)  # refusals under /portal are pages
    app.state.services = services  # read by deps.py only
    install_error_handlers(app, services)
    # innermost: next to the handlers, inside the others
    app.add_middleware(UnexpectedErrorMiddleware, services=services)
    app.add_middleware(BodyLimitMiddleware, own_limits=frozenset({ingest.EVENTS_PATH, firehose.FIREHOSE_PATH}))
    app.add_middleware(ServerTiming)
    for module in (health, exports, usage, files, ingest, firehose):
        app.include_router(module.router)
    app.include_router(request_tracing.router)  # internal: not in the OpenAPI document
    # The portal's pages (not in the OpenAPI document) and its static files, the vendored chart library among them.
    for module in (portal_signin, portal_customer, portal_exports, portal_public, portal_internal):
        app.include_router(module.router)
    app.include_router(portal_oncall.router)  # tracing pages
    app.include_router(portal_signin.front_door)
    app.mount("/portal/static", StaticFiles(directory=STATIC_DIR), name="portal_static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        """Swagger UI from the vendored files (no CDN: the page works offline)."""
        vendor = f"/portal/static/vendor/swagger-ui-{SWAGGER_UI_VERSION}"
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{TITLE} – docs",
                                   swagger_js_url=f"{vendor}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{vendor}/swagger-ui.css",
                                   swagger_favicon_url=f"{vendor}/favicon-32x32.png")

    return app


#: Query parameters whose values never reach a log: the signatures of download links (ours, S3's).
SECRET_PARAMETERS = frozenset({"signature", "x-amz-signature"})
_QUERY_SEPARATORS = re.compile(r"([&;])")


def redact_query(target: str) -> str:
    """``target`` (a path and query) with the values of :data:`SECRET_PARAMETERS` replaced by
    ``[redacted]``. Names are compared decoded and case-folded, as a server reads them, so an
    encoded name (``%73ignature``) is no way around it."""
    path, question, query = target.partition("?")
    if not question:
        return target
    pieces = []
    for piece in _QUERY_SEPARATORS.split(query):
        name, equals, _ = piece.partition("=")
        if equals and urllib.parse.unquote_plus(name).strip().casefold() in SECRET_PARAMETERS:
            piece = f"{name}=[redacted]"
        pieces.append(piece)
    return f"{path}?{''.join(pieces)}"


class RedactSignatures(logging.Filter):
    """Removes download-link signatures from uvicorn's access-log lines (:func:`redact_query`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            args = list(record.args)
            args[2] = redact_query(args[2])
            record.args = tuple(args)
        return True


def log_config(access_log: bool) -> dict:
    """uvicorn's logging: its default formats, the access log with signatures redacted."""
    from uvicorn.config import LOGGING_CONFIG

    config = {**LOGGING_CONFIG, "filters": {"redact_signatures": {"()": RedactSignatures}}}
    config["handlers"] = {**LOGGING_CONFIG["handlers"],
                          "access": {**LOGGING_CONFIG["handlers"]["access"], "filters": ["redact_signatures"]}}
    config["loggers"] = {**LOGGING_CONFIG["loggers"],
                         "uvicorn.access": {**LOGGING_CONFIG["loggers"]["uvicorn.access"],
                                            "level": "INFO" if access_log else "WARNING"},
                         "analytics_pipeline.api": {"handlers": ["default"], "level": "INFO", "propagate": False}}
    return config


def public_url(settings: Settings) -> str:
    """The base URL of the links the API hands out: ``ANALYTICS_API_PUBLIC_URL``, or, unset, the
    address the API listens on (a wildcard address as the loopback one)."""
    if settings.api_public_url:
        return settings.api_public_url
    host = settings.api_host if settings.api_host not in ("", "0.0.0.0", "::") else "127.0.0.1"
    return f"http://{f'[{host}]' if ':' in host else host}:{settings.api_port}"


def worker_count(settings: Settings, workers: int | None = None) -> int:
    """How many worker processes ``serve`` runs: ``workers``, else ``ANALYTICS_API_WORKERS``, else two
    per CPU this process may run on.

    Two per CPU, because request handling is Python (one core per process) and an ingested batch
    spends about half its time waiting on PostgreSQL. The README's benchmarks have the figures for
    1, 2 and 4 workers (benchmarks/realtime.py).
    """
    if workers is not None:
        return workers
    if settings.api_workers is not None:
        return settings.api_workers
    return 2 * len(os.sched_getaffinity(0))


def serve(settings: Settings, *, host: str | None = None, port: int | None = None, workers: int | None = None) -> None:
    """Run the API on uvicorn until interrupted (``host``/``port`` override the settings', and
    the links follow them unless ``ANALYTICS_API_PUBLIC_URL`` is set).

    Runs :func:`worker_count` worker processes on the one port, each on a socket of its own
    (:func:`_workers_on_own_sockets`), or, when that is 1, serves in this process. The warehouse is
    migrated (and the signing key made) once, here, before the workers start.
    """
    import uvicorn

    workers = worker_count(settings, workers)
    settings = dataclasses.replace(settings, api_host=host or settings.api_host, api_port=port or settings.api_port)
    options = {"host": settings.api_host, "port": settings.api_port, "log_config": log_config(settings.api_access_log),
               "access_log": settings.api_access_log, "proxy_headers": True, "server_header": False}
    if workers <= 1:
        uvicorn.run(create_app(settings), **options)
        return
    url = resolve_database_url(settings.database_url, settings.embedded_pgdata)
    ensure_migrated(url)
    signing_key(settings)  # made here if it is new, so two workers never race to write it
    # The workers are new processes that read their settings from the environment: hand them
    # the resolved warehouse and the overridden address that way.
    os.environ.update(environment_for(database_url=url, api_host=settings.api_host, api_port=settings.api_port))
    config = uvicorn.Config("analytics_pipeline.api.app:app_from_environment", factory=True, workers=workers,
                            **options)
    _reuse_port_socket(config).close()  # the port is free (or ours to share): fail here, not in every worker
    logging.getLogger("uvicorn.error").info("Uvicorn running on http://%s:%d, %d workers (Press CTRL+C to quit)",
                                            config.host, config.port, workers)
    _workers_on_own_sockets(config).run()


def _reuse_port_socket(config: uvicorn.Config) -> socket.socket:
    """A listening socket on the API's address, bound with SO_REUSEPORT so that each worker can have
    one of its own on the same port."""
    sock = socket.socket(socket.AF_INET6 if ":" in config.host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((config.host, config.port))
    except OSError:
        sock.close()
        raise
    sock.listen(config.backlog)
    sock.set_inheritable(True)
    return sock


def _workers_on_own_sockets(config: uvicorn.Config) -> uvicorn.supervisors.Multiprocess:
    """uvicorn's supervisor (it restarts a worker that dies; SIGHUP restarts them all, SIGTTIN and
    SIGTTOU add and remove one), except that each worker it starts listens on a socket of its own on
    the one port, bound with SO_REUSEPORT, so the kernel spreads new connections over the workers.

    On uvicorn's one shared socket the first worker to wake accepts every connection waiting: 4
    clients connecting at once often all landed on one process, whose Python then capped ingestion
    near 45k events/s while the other workers idled (benchmarks/realtime.py, README).
    """
    from uvicorn.supervisors import Multiprocess

    class WorkersOnOwnSockets(Multiprocess):
        @property
        def sockets(self) -> list[socket.socket]:
            # The supervisor reads this each time it starts a worker: a socket of its own each time.
            return [_reuse_port_socket(self.config)]

        @sockets.setter
        def sockets(self, shared: list[socket.socket]) -> None:
            pass  # the base class keeps one shared list here; there is none

    return WorkersOnOwnSockets(config, sockets=[])


def app_from_environment() -> FastAPI:
    """The API of the process's settings (what each worker of ``serve(workers=N)`` runs)."""
    from analytics_pipeline.settings import current_settings

    return create_app(current_settings())
