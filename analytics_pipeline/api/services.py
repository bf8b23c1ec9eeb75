"""What the API's routes are served with, made once by :func:`~analytics_pipeline.api.app.create_app`
and kept in ``app.state.services``: the settings, "now", the download links, the key cache, the
warehouse's pools (opened at startup) and the status page's cache. Routes never read it from the
app: they declare what they need (:mod:`analytics_pipeline.api.deps`), and the error handlers are
installed with it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from psycopg_pool import AsyncConnectionPool, ConnectionPool

from analytics_pipeline.api.downloads import DownloadLinks
from analytics_pipeline.api.keys import KeyCache
from analytics_pipeline.settings import Settings


@dataclass
class ApiServices:
    """The API's shared services; the pools are None until the app has started."""

    settings: Settings
    clock: Callable[[], datetime]
    links: DownloadLinks
    migration_head: str
    key_cache: KeyCache
    #: How a refusal under ``/portal`` is rendered (the portal's pages), or None (JSON everywhere).
    html_refusal: Callable[..., Any] | None = None
    pool: ConnectionPool | None = None
    read_pool: AsyncConnectionPool | None = None
    ingest_pool: ConnectionPool | None = None
    #: The status page's rendered figures, by minute (``routes.portal.public``).
    status_cache: dict = field(default_factory=dict)

    @property
    def pool_timeout(self) -> float:
        return self.settings.api_pool_timeout_seconds

    @property
    def portal_session_lifetime(self) -> timedelta:
        return timedelta(hours=self.settings.portal_session_hours)
