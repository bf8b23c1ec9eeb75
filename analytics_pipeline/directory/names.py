"""The directory of organizations and models: display name, plan (organizations) or provider
(models), and when each was created, so that people read "Acme Analytics" and "atlas-large" where the
events carry only ids. Ids stay the keys everywhere: pages and the CLI show a name *with* its id, the
API adds ``organizationName``/``modelName`` beside the ids, and the CSV exports keep the seed's
schema (ids only).

The directory file (JSON or TOML, like the plans and budgets files; the generator writes one for the
demo, ``analytics-pipeline directory load FILE`` loads it)::

    {
      "organizations": {
        "<organization id>": {"name": "Acme Analytics", "plan": "enterprise", "created": "2025-06-01"}
      },
      "models": {
        "<model id>": {"name": "atlas-large", "provider": "Atlas", "created": "2024-01-01"}
      }
    }

Only ``name`` is required. Loading upserts: an id already in the directory takes the file's values;
ids the file does not name keep theirs. An id without a directory entry is shown as its id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg

from analytics_pipeline.configuration.documents import parse_document
from analytics_pipeline.warehouse.sql import fetch_rows, load_sql

_ENTRY_FIELDS = {"organizations": {"name", "plan", "created"}, "models": {"name", "provider", "created"}}


class DirectoryFileError(ValueError):
    """A directory file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class DirectoryEntry:
    """One organization or model: its id, display name, plan or provider, and creation time."""

    entry_id: str
    display_name: str
    detail: str | None = None  # an organization's plan, a model's provider
    created_at: datetime | None = None


@dataclass(frozen=True)
class Directory:
    organizations: list[DirectoryEntry]
    models: list[DirectoryEntry]


def _created(value, where: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise DirectoryFileError(f"{where}.created: not an ISO 8601 date or time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _entries(data, section: str, source: str) -> list[DirectoryEntry]:
    table = data.get(section, {})
    if not isinstance(table, dict):
        raise DirectoryFileError(f"{source}: {section} must be an object keyed by id")
    entries = []
    for entry_id, fields in table.items():
        where = f"{source}: {section}.{entry_id}"
        if not isinstance(fields, dict):
            raise DirectoryFileError(f"{where}: an entry is an object with at least a name")
        unknown = sorted(set(fields) - _ENTRY_FIELDS[section])
        if unknown:
            raise DirectoryFileError(f"{where}: unknown fields {', '.join(unknown)}")
        name = fields.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise DirectoryFileError(f"{where}.name: a non-empty text of at most 200 characters is required")
        detail = fields.get("plan" if section == "organizations" else "provider")
        if detail is not None and not isinstance(detail, str):
            raise DirectoryFileError(f"{where}: plan and provider are texts")
        entries.append(DirectoryEntry(str(entry_id), name.strip(), detail, _created(fields.get("created"), where)))
    return entries


def parse_directory(text: str, *, fmt: str, source: str) -> Directory:
    """The directory of a JSON or TOML document; :class:`DirectoryFileError` naming ``source``."""
    data = parse_document(text, fmt=fmt, source=source, kind="directory", error=DirectoryFileError)
    unknown = sorted(set(data) - set(_ENTRY_FIELDS))
    if unknown:
        raise DirectoryFileError(f"{source}: unknown sections {', '.join(unknown)} (organizations, models)")
    return Directory(_entries(data, "organizations", source), _entries(data, "models", source))


def read_directory_file(path: Path) -> Directory:
    """The directory file at ``path`` (``.json`` or ``.toml``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as problem:
        raise DirectoryFileError(f"{path}: cannot be read: {problem.strerror}") from None
    return parse_directory(text, fmt=path.suffix.lstrip(".").lower(), source=str(path))


def load_directory(conn: psycopg.Connection, directory: Directory, *, source: str) -> tuple[int, int]:
    """Upsert the directory's entries in one transaction; (organizations, models) written."""
    with conn.transaction(), conn.cursor() as cursor:
        cursor.executemany(load_sql("directory/upsert_organization"), [
            {"organization_id": e.entry_id, "display_name": e.display_name, "plan": e.detail,
             "created_at": e.created_at, "source": source} for e in directory.organizations])
        cursor.executemany(load_sql("directory/upsert_model"), [
            {"model_id": e.entry_id, "display_name": e.display_name, "provider": e.detail,
             "created_at": e.created_at, "source": source} for e in directory.models])
    return len(directory.organizations), len(directory.models)


def list_organizations(conn: psycopg.Connection) -> list[DirectoryEntry]:
    """Every organization of the directory or with usage, by name (an id without entry: its id as name)."""
    return fetch_rows(conn, "directory/list_organizations", None, DirectoryEntry)


def organization_names(conn: psycopg.Connection, organization_ids: Iterable[str]) -> dict[str, str]:
    """``{id: display name}`` of the ids that have a directory entry."""
    ids = sorted({i for i in organization_ids if i})
    if not ids:
        return {}
    return dict(conn.execute(load_sql("directory/organization_names"), {"ids": ids}).fetchall())


def model_names(conn: psycopg.Connection, model_ids: Iterable[str | None]) -> dict[str, str]:
    """``{id: display name}`` of the model ids that have a directory entry."""
    ids = sorted({i for i in model_ids if i})
    if not ids:
        return {}
    return dict(conn.execute(load_sql("directory/model_names"), {"ids": ids}).fetchall())
