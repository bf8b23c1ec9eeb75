"""``/healthz`` (the process is up) and ``/readyz`` (the warehouse answers, at the current
migration; export jobs stuck in ``pending`` are reported with the reason)."""

from __future__ import annotations

import psycopg
import psycopg_pool
from fastapi import APIRouter

from analytics_pipeline.api.deps import Clock, Services, Warehouse
from analytics_pipeline.api.errors import JsonResponse
from analytics_pipeline.api.models import Health, Readiness
from analytics_pipeline.exports.export_jobs import stuck_jobs
from analytics_pipeline.warehouse.sql import load_sql

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, name="healthz", summary="The process is up")
async def healthz() -> JsonResponse:
    """The process is up (no dependency is checked)."""
    return JsonResponse({"status": "ok"})


@router.get("/readyz", response_model=Readiness, name="readyz", summary="The API can serve requests",
            responses={503: {"model": Readiness, "description": "The warehouse is unreachable or not migrated."}})
def readyz(services: Services, warehouse: Warehouse, clock: Clock) -> JsonResponse:
    """Ready when the warehouse answers and its schema is at the API's migration. Jobs pending
    for more than 15 minutes that no run has started (no Dagster daemon) show as `exportQueue:
    stuck` with the reason; the API itself stays ready (it can still take requests)."""
    head = services.migration_head
    try:
        with warehouse.connection(timeout=services.pool_timeout) as conn:
            revision = conn.execute(load_sql("api/current_revision")).fetchone()[0]
            stuck = stuck_jobs(conn, clock())
    except (psycopg.Error, psycopg_pool.PoolTimeout) as error:
        reason = f"the warehouse is unreachable ({type(error).__name__})"
        return JsonResponse({"status": "unready", "warehouse": "unreachable", "migrations": "unknown",
                             "exportQueue": "unknown", "reason": reason}, status_code=503)
    if revision != head:
        return JsonResponse({"status": "unready", "warehouse": "ok", "migrations": f"at {revision}, not {head}",
                             "exportQueue": "unknown",
                             "reason": f"the warehouse is at migration {revision}, the API needs {head}: "
                                       "run `analytics-pipeline db upgrade`"}, status_code=503)
    body = {"status": "ready", "warehouse": "ok", "migrations": "current",
            "exportQueue": "stuck" if stuck.count else "ok"}
    reason = stuck.reason(clock())
    if reason:
        body["reason"] = reason
    return JsonResponse(body)
