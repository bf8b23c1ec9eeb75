"""The project's SQL, kept as ``.sql`` files under ``sql/`` and loaded by name.

Queries use psycopg named placeholders (``%(name)s``); values are always bound, never
formatted into the text.
"""

from __future__ import annotations

import functools
from pathlib import Path

_CANDIDATES = (
    Path(__file__).resolve().parents[2] / "sql",  # a source checkout / editable install
    Path(__file__).resolve().parents[1] / "sql",  # a wheel (sql/ is packaged inside the package)
)


def sql_dir() -> Path:
    for candidate in _CANDIDATES:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no sql/ directory in {[str(c) for c in _CANDIDATES]}")


@functools.cache
def load_sql(name: str) -> str:
    """The text of ``sql/<name>.sql``, e.g. ``load_sql("ingestion/insert_new_events")``."""
    return (sql_dir() / f"{name}.sql").read_text()
