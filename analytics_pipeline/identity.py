"""Identity: the one rule of what an organization (tenant) id may be.

An organization id names a tenant everywhere: the API's paths and keys' scopes, the portal's
pages, the exports' object keys. It must be safe in all of them, so one pattern decides:
``[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}`` (ASCII). Domain-neutral and pure, beside :mod:`.money`.
"""

from __future__ import annotations

import re

ORGANIZATION_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}", re.ASCII)


class UnsafeOrganizationIdError(ValueError):
    """An organization id that must not become part of an object key."""


def checked_organization_id(organization_id: str) -> str:
    """``organization_id`` when it matches :data:`ORGANIZATION_ID_PATTERN`: UnsafeOrganizationIdError otherwise."""
    if not isinstance(organization_id, str) or not ORGANIZATION_ID_PATTERN.fullmatch(organization_id):
        raise UnsafeOrganizationIdError(f"invalid organization id {organization_id!r}")
    return organization_id
