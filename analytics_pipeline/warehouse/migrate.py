"""Schema migrations with Alembic, run programmatically.

``upgrade`` holds a PostgreSQL advisory lock, so several processes starting at once
(Dagster runs, the CLI, code servers) apply each migration exactly once.
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from analytics_pipeline.warehouse.database import SCHEMA, SESSION_OPTIONS, sqlalchemy_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_ADVISORY_LOCK_KEY = 7_351_002  # any constant unique to this project's migrations


def _alembic_config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _run(url: str, action) -> None:
    engine = create_engine(sqlalchemy_url(url), connect_args={"options": SESSION_OPTIONS})
    try:
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"'))
            action(_alembic_config(connection))
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the warehouse at ``url`` up to ``revision``."""
    _run(url, lambda config: command.upgrade(config, revision))


_migrated: set[str] = set()
_migrate_lock = threading.Lock()


def ensure_migrated(url: str) -> None:
    """Apply pending migrations once per process and URL (at resource setup and service start)."""
    if url in _migrated:
        return
    with _migrate_lock:
        if url not in _migrated:
            upgrade(url)
            _migrated.add(url)


def downgrade(url: str, revision: str) -> None:
    """Take the warehouse at ``url`` down to ``revision`` (``base`` removes everything)."""
    _run(url, lambda config: command.downgrade(config, revision))


def current_revision(url: str) -> str | None:
    """The revision the warehouse at ``url`` is at, or None before the first migration."""
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as connection:
            exists = connection.execute(text("SELECT to_regclass(:t)"), {"t": f"{SCHEMA}.alembic_version"}).scalar()
            if exists is None:
                return None
            # SCHEMA is a constant of this module, not input.
            return connection.execute(text(f"SELECT version_num FROM {SCHEMA}.alembic_version")).scalar()  # noqa: S608
    finally:
        engine.dispose()


def head_revision() -> str:
    """The newest migration this code ships (what ``upgrade`` brings a warehouse to)."""
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()
