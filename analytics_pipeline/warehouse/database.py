"""Connections to the warehouse: which PostgreSQL, which database, which schema.

Every table of the project lives in the ``analytics`` schema; connections made here set
``search_path`` so the SQL in ``sql/`` names tables without a schema prefix.
"""

from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from analytics_pipeline.warehouse.embedded import ensure_embedded_postgres

SCHEMA = "analytics"
EMBEDDED_DATABASE = "analytics"
# UTC sessions: date_trunc() and day boundaries in SQL are then UTC, whatever the server default.
SESSION_OPTIONS = f"-c search_path={SCHEMA},public -c timezone=UTC"


def with_database(url: str, dbname: str) -> str:
    """``url`` pointing at database ``dbname`` instead (keeps host, socket dir and query)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


def ensure_database(server_url: str, dbname: str) -> str:
    """Create ``dbname`` on the server behind ``server_url`` if missing; return its URL."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            try:
                conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(dbname)))
            except psycopg.errors.DuplicateDatabase:  # created concurrently by another process
                pass
    return with_database(server_url, dbname)


def drop_database(server_url: str, dbname: str) -> None:
    """Drop ``dbname`` (used by tests to clean up their isolated databases)."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(dbname)))


def resolve_database_url(database_url: str | None, embedded_pgdata: Path | str) -> str:
    """The warehouse URL: ``database_url`` (``ANALYTICS_DATABASE_URL``) or, when that is empty,
    the ``analytics`` database of the embedded server on ``embedded_pgdata`` (started if needed)."""
    if database_url:
        return database_url
    server_url = ensure_embedded_postgres(Path(embedded_pgdata))
    return ensure_database(server_url, EMBEDDED_DATABASE)


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection:
    """A psycopg connection with the warehouse schema on its search path."""
    return psycopg.connect(url, autocommit=autocommit, options=SESSION_OPTIONS)


def dagster_storage_url(url: str) -> str:
    """A URL for dagster-postgres's ``postgres_url``, pinned to psycopg2.

    SQLAlchemy 2.1 maps a bare ``postgresql://`` to psycopg 3, whose server-side binding
    breaks dagster-postgres's ``NOTIFY channel, %(id)s``; dagster-postgres ships psycopg2.
    """
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg2://{rest}" if scheme in ("postgres", "postgresql") else url


@functools.cache
def sqlalchemy_url(url: str) -> str:
    """The SQLAlchemy form of a libpq URL, on the psycopg 3 driver."""
    scheme, rest = url.split("://", 1)
    if scheme in ("postgres", "postgresql"):
        scheme = "postgresql+psycopg"
    return f"{scheme}://{rest}"
