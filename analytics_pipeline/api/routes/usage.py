"""An organization's usage series from the rollups, for customer-facing dashboards."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query

from analytics_pipeline.api.deps import Clock, OrgScope, Warehouse
from analytics_pipeline.api.errors import ERROR_DESCRIPTIONS, ApiError, JsonResponse
from analytics_pipeline.api.models import ErrorBody, UsageSeries
from analytics_pipeline.exports.export_jobs import ExportRequest, InvalidExportRequest
from analytics_pipeline.exports.usage_csv import MODEL_LESS_ID, format_cost, format_timestamp
from analytics_pipeline.rollups.usage import Granularity, live_usage_from, live_usage_series, usage_series

router = APIRouter(prefix="/analytics/v1/orgs/{orgId}/usage", tags=["usage"])


@router.get("", name="usage", response_model=UsageSeries, summary="Usage series of an organization",
            responses={status: {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[status]}
                       for status in (401, 403, 422, 503)})
def usage(
    scope: OrgScope, warehouse: Warehouse, clock: Clock,
    start: Annotated[str, Query(max_length=64, description="ISO 8601, on a boundary of the granularity.")],
    end: Annotated[str, Query(max_length=64, description="Exclusive, or inclusive when 1 s before a boundary.")],
    granularity: Annotated[str, Query(max_length=32, description="`hourly` or `daily` (default).")] = "daily",
) -> JsonResponse:
    """Requests, tokens, errors, cost (decimal string) and latency p50/p95/p99 per bucket and
    model, from the hourly or daily rollups; the same range rules as exports (at most 31 days).
    Buckets the rollups have not reached yet (the open hour, events that arrived seconds ago by
    any path) come from the raw events, marked `provisional` (from `provisionalFrom` on; their
    cost is null while an event has no price); the rollups stay the billing truth."""
    if granularity not in ("hourly", "daily"):
        raise ApiError(422, "invalid_granularity", f"usage series are hourly or daily, not {granularity!r}")
    try:
        window = ExportRequest.parse(organization_id=scope.organization_id, start=start, end=end,
                                     granularity=granularity)
    except InvalidExportRequest as error:
        raise ApiError(422, error.code, str(error)) from None
    with warehouse.connection() as conn:
        live_from = min(max(live_usage_from(conn, Granularity(granularity), clock()), window.start), window.end)
        rows = usage_series(conn, Granularity(granularity), scope.organization_id, window.start, live_from)
        live = live_usage_series(conn, Granularity(granularity), scope.organization_id, live_from, window.end)
    series, cost = [], Decimal(0)
    for row, provisional in [(row, False) for row in rows] + [(row, True) for row in live]:
        series.append({
            "bucketStart": row.bucket_start, "modelId": row.model_id or MODEL_LESS_ID,
            "requestCount": row.request_count, "tokensInput": row.tokens_input, "tokensOutput": row.tokens_output,
            "tokensTotal": row.tokens_total, "errorCount": row.error_count, "costTotal": _cost(row.cost_total),
            "latencyP50Ms": row.latency_p50_ms, "latencyP95Ms": row.latency_p95_ms,
            "latencyP99Ms": row.latency_p99_ms, "provisional": provisional})
        cost = None if cost is None or row.cost_total is None else cost + row.cost_total
    rows = rows + live
    return JsonResponse({
        "orgId": scope.organization_id, "granularity": granularity,
        "provisionalFrom": format_timestamp(live_from) if live_from < window.end else None,
        "timeRange": {"start": format_timestamp(window.start),
                      "end": format_timestamp(window.requested_end or window.end)},
        "series": series,
        "totals": {"requestCount": sum(r.request_count for r in rows), "tokensTotal": sum(r.tokens_total for r in rows),
                   "errorCount": sum(r.error_count for r in rows), "costTotal": _cost(cost)}})


def _cost(value: Decimal | None) -> str | None:
    # A provisional bucket with an unpriced event has no cost yet: null, never a wrong figure.
    return format_cost(value) if value is not None else None
