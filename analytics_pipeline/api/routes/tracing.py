"""Request tracing over HTTP, for the platform's on-call and support (internal: not part of the
export API's OpenAPI contract).

* ``GET /analytics/v1/requests/{requestId}/trace``: every organization's lines of that request
  id; a finance-wide key only (403 ``finance_key_required`` otherwise).
* ``GET /analytics/v1/orgs/{orgId}/requests/{requestId}/trace``: that organization's only, with the
  tenant check every organization route declares (:data:`OrgScope`): an organization key traces
  its own requests and nobody else's.

The body is :meth:`analytics_pipeline.tracing.trace.Trace.as_json`; 404 ``request_not_found``
when nothing carries the id (in the organizations the key may read).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from analytics_pipeline.api.deps import CurrentKey, OrgScope, Warehouse
from analytics_pipeline.api.errors import ApiError, JsonResponse
from analytics_pipeline.api.keys import FINANCE_SCOPE
from analytics_pipeline.tracing.trace import trace_request

router = APIRouter(prefix="/analytics/v1", tags=["tracing"], include_in_schema=False)
RequestId = Annotated[str, Path(alias="requestId", min_length=1, max_length=256)]


def _traced(warehouse, request_id: str, organization_ids: list[str] | None) -> JsonResponse:
    with warehouse.connection() as conn:
        trace = trace_request(conn, request_id, organization_ids)
    if not trace.found:
        raise ApiError(404, "request_not_found", "no line with that request id was ingested or quarantined")
    return JsonResponse(trace.as_json())


@router.get("/requests/{requestId}/trace", name="trace_any_organization")
def trace_any_organization(key: CurrentKey, warehouse: Warehouse, request_id: RequestId) -> JsonResponse:
    """Where ``requestId`` came from in every organization, and what became of it (finance-wide keys)."""
    if key.scope != FINANCE_SCOPE:
        raise ApiError(403, "finance_key_required",
                       "tracing across organizations needs a finance-wide key; use /orgs/{orgId}/requests/...")
    return _traced(warehouse, request_id, None)


@router.get("/orgs/{orgId}/requests/{requestId}/trace", name="trace_organization_request")
def trace_organization_request(scope: OrgScope, warehouse: Warehouse, request_id: RequestId) -> JsonResponse:
    """Where ``requestId`` of this organization came from, and what became of it."""
    return _traced(warehouse, request_id, [scope.organization_id])
