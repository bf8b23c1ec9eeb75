"""An organization's usage series from the rollups, for customer-facing dashboards."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from analytics_pipeline.api.deps import Clock, OrgScope, Warehouse
from analytics_pipeline.api.errors import ERROR_DESCRIPTIONS, ApiError, JsonResponse
from analytics_pipeline.api.models import ACCEPTED_TIMES, ErrorBody, UsageSeries
from analytics_pipeline.directory.names import model_names, organization_names
from analytics_pipeline.exports.export_jobs import ExportRequest, InvalidExportRequest
from analytics_pipeline.exports.usage_csv import MODEL_LESS_ID, format_timestamp
from analytics_pipeline.money import CSV_QUANTUM, format_cost, rounded_rows
from analytics_pipeline.rollups.usage import (
    Granularity,
    live_usage_from,
    live_usage_series,
    range_latency,
    usage_series,
)

router = APIRouter(prefix="/analytics/v1/orgs/{orgId}/usage", tags=["usage"])


@router.get("", name="usage", response_model=UsageSeries, summary="Usage series of an organization",
            responses={status: {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[status]}
                       for status in (401, 403, 422, 503)})
def usage(
    scope: OrgScope, warehouse: Warehouse, clock: Clock,
    start: Annotated[str, Query(max_length=64, json_schema_extra={"format": "date-time"},
                                description=f"ISO 8601, on a boundary of the granularity; {ACCEPTED_TIMES}.")],
    end: Annotated[str, Query(max_length=64, json_schema_extra={"format": "date-time"},
                              description="Exclusive, or inclusive when 1 s before a boundary.")],
    granularity: Annotated[Literal["hourly", "daily"], Query(description="`hourly` or `daily` (default).")] = "daily",
) -> JsonResponse:
    """Requests, tokens, errors, cost (decimal string) and latency p50/p95/p99 per bucket and
    model, from the hourly or daily rollups; the same range rules as exports (at most 31 days).
    The rows' costs add up to ``totals.costTotal`` (the exact sum at 4 decimals; rows by largest
    remainder). ``organizationName`` and ``modelName`` are the directory's display names (null
    without an entry). The totals carry the whole range's latency percentiles (the rollups'
    sketches merged, within 1 % of exact) and the requests they rest on.
    Buckets the rollups have not reached yet (the open hour, events that arrived seconds ago by
    any path) come from the raw events, marked `provisional` (from `provisionalFrom` on; their
    cost is null while an event has no price, and so is the total); the rollups stay the billing truth."""
    try:
        window = ExportRequest.parse(organization_id=scope.organization_id, start=start, end=end,
                                     granularity=granularity)
    except InvalidExportRequest as error:
        raise ApiError(422, error.code, str(error)) from None
    with warehouse.connection() as conn:
        live_from = min(max(live_usage_from(conn, Granularity(granularity), clock()), window.start), window.end)
        rolled_up = usage_series(conn, Granularity(granularity), scope.organization_id, window.start, live_from)
        live = live_usage_series(conn, Granularity(granularity), scope.organization_id, live_from, window.end)
        rows = rolled_up + live
        org_name = organization_names(conn, [scope.organization_id]).get(scope.organization_id)
        names = model_names(conn, [row.model_id for row in rows])
        latency = range_latency(conn, scope.organization_id, window.start, window.end)
    # The rows' costs add up to the total shown (the money module's rule, as in the CSV exports); a
    # provisional bucket with an unpriced event has no cost yet, and then neither has the total.
    costs, cost = rounded_rows([row.cost_total for row in rows], CSV_QUANTUM)
    priced = all(row.cost_total is not None for row in rows)
    series = []
    for index, (row, row_cost) in enumerate(zip(rows, costs, strict=True)):
        series.append({
            "bucketStart": row.bucket_start, "modelId": row.model_id or MODEL_LESS_ID,
            "modelName": names.get(row.model_id),
            "requestCount": row.request_count, "tokensInput": row.tokens_input, "tokensOutput": row.tokens_output,
            "tokensTotal": row.tokens_total, "errorCount": row.error_count,
            "costTotal": format_cost(row_cost) if row_cost is not None else None,
            "latencyP50Ms": row.latency_p50_ms, "latencyP95Ms": row.latency_p95_ms,
            "latencyP99Ms": row.latency_p99_ms, "provisional": index >= len(rolled_up)})
    return JsonResponse({
        "orgId": scope.organization_id, "organizationName": org_name, "granularity": granularity,
        "provisionalFrom": format_timestamp(live_from) if live_from < window.end else None,
        "timeRange": {"start": format_timestamp(window.start),
                      "end": format_timestamp(window.requested_end or window.end)},
        "series": series,
        "totals": {"requestCount": sum(r.request_count for r in rows), "tokensTotal": sum(r.tokens_total for r in rows),
                   "errorCount": sum(r.error_count for r in rows),
                   "costTotal": format_cost(cost) if priced else None,
                   "latencyRequestCount": latency.request_count, "latencyP50Ms": latency.latency_p50_ms,
                   "latencyP95Ms": latency.latency_p95_ms, "latencyP99Ms": latency.latency_p99_ms}})
