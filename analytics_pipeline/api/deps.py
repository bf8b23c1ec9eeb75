"""The dependencies routes declare, once each: the warehouse connection, the authenticated
key, and the organization scope every ``/orgs/{orgId}`` route takes (a route without
:data:`OrgScope` cannot reach an organization's data)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import psycopg
from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from analytics_pipeline.api.errors import ApiError
from analytics_pipeline.api.keys import ApiKey, find_key
from analytics_pipeline.api.security import parse_key, secret_matches
from analytics_pipeline.exports.usage_csv import UnsafeOrganizationIdError, checked_organization_id


def warehouse_connection(request: Request) -> Iterator[psycopg.Connection]:
    """A connection from the pool (autocommit), for the request's duration."""
    with request.app.state.pool.connection() as conn:
        yield conn


Connection = Annotated[psycopg.Connection, Depends(warehouse_connection)]


def request_clock(request: Request) -> Callable[[], datetime]:
    return request.app.state.clock


Clock = Annotated[Callable[[], datetime], Depends(request_clock)]

_bearer = HTTPBearer(auto_error=False, description="An API key, `ak_<key_id>_<secret>` "
                                                   "(`analytics-pipeline api-keys create`).")


def authenticated_key(request: Request, conn: Connection, clock: Clock,
                      credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> ApiKey:
    """The key in ``Authorization: Bearer``; 401 when missing, malformed, unknown, revoked or expired."""
    if credentials is None:
        raise ApiError(401, "missing_api_key", "send an API key: Authorization: Bearer ak_<key_id>_<secret>",
                       {"WWW-Authenticate": "Bearer"})
    parsed = parse_key(credentials.credentials)
    if parsed is None:
        raise ApiError(401, "invalid_api_key", "the API key is malformed (expected ak_<key_id>_<secret>)",
                       {"WWW-Authenticate": "Bearer"})
    key_id, secret = parsed
    key = find_key(conn, key_id)
    if key is None or not secret_matches(secret, key.secret_sha256):
        raise ApiError(401, "invalid_api_key", "the API key is not valid", {"WWW-Authenticate": "Bearer"})
    request.state.key_id = key.key_id
    if key.revoked_at is not None:
        raise ApiError(401, "revoked_api_key", "the API key was revoked; ask for a new one",
                       {"WWW-Authenticate": "Bearer"})
    if not key.usable_at(clock()):
        raise ApiError(401, "expired_api_key", "the API key expired; ask for a new one",
                       {"WWW-Authenticate": "Bearer"})
    return key


CurrentKey = Annotated[ApiKey, Depends(authenticated_key)]


@dataclass(frozen=True)
class Scope:
    """An authenticated key acting on one organization it may read."""

    key: ApiKey
    organization_id: str


def org_scope(request: Request, key: CurrentKey, org_id: Annotated[str, Path(alias="orgId", max_length=128)]) -> Scope:
    """The organization of the path, when the key may read it: 403 otherwise."""
    valid = _valid_organization_id(org_id)
    if valid:
        request.state.organization_id = org_id  # audited with a refusal too
    if not key.may_read(org_id):
        raise ApiError(403, "organization_out_of_scope", "this API key may not read that organization")
    if not valid:
        raise ApiError(422, "invalid_organization_id", "the organization id is not "
                                                       "[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
    return Scope(key, org_id)


def _valid_organization_id(org_id: str) -> bool:
    try:
        checked_organization_id(org_id)
    except UnsafeOrganizationIdError:
        return False
    return True


OrgScope = Annotated[Scope, Depends(org_scope)]
