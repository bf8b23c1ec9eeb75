"""The project's SQL, kept as ``.sql`` files under ``sql/`` and loaded by name.

Queries use psycopg named placeholders (``%(name)s``); values are always bound, never formatted
into the text. A file that names a table, a column or a shared fragment in ``{braces}`` is
composed with :mod:`psycopg.sql` by :func:`compose_sql`: identifiers are quoted as identifiers,
fragments are other SQL files, literals are quoted as literals.

A query's result has one row type (a dataclass or named tuple, fields in the query's column order),
shared by every reader of that query: :func:`fetch_rows` and :func:`fetch_row` run a query into it.

The files live in one place: ``sql/`` at the top of the repository, which the package reaches
as ``analytics_pipeline/sql`` (a link in a checkout, the files themselves in the wheel).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.rows import args_row

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"

Row = TypeVar("Row")
#: A query: the name of a file under ``sql/`` (``"metrics/top_error_types"``), or composed SQL.
Query = str | sql.Composable


@functools.cache
def load_sql(name: str) -> str:
    """The text of ``sql/<name>.sql``, e.g. ``load_sql("ingestion/insert_new_events")``."""
    return (SQL_DIR / f"{name}.sql").read_text()


def compose_sql(name: str, **parts: sql.Composable) -> sql.Composed:
    """``sql/<name>.sql`` with its ``{placeholders}`` filled by ``parts``: ``sql.Identifier`` for
    names, ``sql.Literal`` for constants, another ``compose_sql`` or ``sql.SQL`` for clauses."""
    return sql.SQL(load_sql(name)).format(**parts)


def _cursor(conn: psycopg.Connection, query: Query, params: Mapping[str, Any] | None,
            row_type: Callable[..., Row]) -> psycopg.Cursor[Row]:
    cursor = conn.cursor(row_factory=args_row(row_type))
    return cursor.execute(load_sql(query) if isinstance(query, str) else query, params)


def fetch_rows(conn: psycopg.Connection, query: Query, params: Mapping[str, Any] | None,
               row_type: Callable[..., Row]) -> list[Row]:
    """Every row of ``query`` (a name under ``sql/`` or composed SQL) with ``params`` bound, each
    built as ``row_type(*columns)``: ``fetch_rows(conn, "metrics/forecast_backtests", params, BacktestRow)``."""
    with _cursor(conn, query, params, row_type) as cursor:
        return cursor.fetchall()


def fetch_row(conn: psycopg.Connection, query: Query, params: Mapping[str, Any] | None,
              row_type: Callable[..., Row]) -> Row | None:
    """The first row of ``query`` as ``row_type(*columns)``, or None when it returns none."""
    with _cursor(conn, query, params, row_type) as cursor:
        return cursor.fetchone()
