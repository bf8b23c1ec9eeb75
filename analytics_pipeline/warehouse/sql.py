"""The project's SQL, kept as ``.sql`` files under ``sql/`` and loaded by name.

Queries use psycopg named placeholders (``%(name)s``); values are always bound, never formatted
into the text. A file that names a table, a column or a shared fragment in ``{braces}`` is
composed with :mod:`psycopg.sql` by :func:`compose_sql`: identifiers are quoted as identifiers,
fragments are other SQL files, literals are quoted as literals.

The files live in one place: ``sql/`` at the top of the repository, which the package reaches
as ``analytics_pipeline/sql`` (a link in a checkout, the files themselves in the wheel).
"""

from __future__ import annotations

import functools
from pathlib import Path

from psycopg import sql

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"


@functools.cache
def load_sql(name: str) -> str:
    """The text of ``sql/<name>.sql``, e.g. ``load_sql("ingestion/insert_new_events")``."""
    return (SQL_DIR / f"{name}.sql").read_text()


def compose_sql(name: str, **parts: sql.Composable) -> sql.Composed:
    """``sql/<name>.sql`` with its ``{placeholders}`` filled by ``parts``: ``sql.Identifier`` for
    names, ``sql.Literal`` for constants, another ``compose_sql`` or ``sql.SQL`` for clauses."""
    return sql.SQL(load_sql(name)).format(**parts)
