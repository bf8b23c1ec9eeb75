"""``POST /analytics/v1/events``: batches of usage events sent over HTTP, loaded exactly once.

The key is checked before the body is read (an ingest key: ``api-keys create --ingest``); the
body is read up to its cap, inflated up to its cap when gzip, split into lines and loaded by
the one ingest core (:mod:`analytics_pipeline.ingestion.live`) in one transaction with its
ledger entry. An ``Idempotency-Key`` makes a retried batch answer what the first one did,
without writing anything again.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from analytics_pipeline.api.deps import IngestKey, Services
from analytics_pipeline.api.errors import ERROR_DESCRIPTIONS, ApiError, JsonResponse
from analytics_pipeline.api.models import ErrorBody
from analytics_pipeline.api.services import ApiServices
from analytics_pipeline.ingestion.contract import EventValidator
from analytics_pipeline.ingestion.formats import Line
from analytics_pipeline.ingestion.live import INGEST_API_SOURCE, BatchKeyReused, BatchOutcome, load_batch
from analytics_pipeline.ingestion.records import (
    MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
    BatchRefused,
    batch_lines,
    gunzip_capped,
)

EVENTS_PATH = "/analytics/v1/events"

router = APIRouter(prefix="/analytics/v1", tags=["ingestion"])


class QuarantinedLineOut(BaseModel):
    line: int = Field(description="1-based: the element of a JSON array, the line of JSON lines.")
    reason: str = Field(description="The contract's quarantine reason (`missing_field`, `invalid_timestamp`, ...).")
    detail: str | None = None


class IngestAnswer(BaseModel):
    """What became of a batch: every event is accepted, a duplicate (its (customer_id,
    request_id) was accepted before with the same content) or quarantined with a reason."""

    received: int = Field(description="Events read: accepted + duplicates + quarantined.")
    accepted: int
    duplicates: int
    quarantined: int
    replayed: bool = Field(description="True when this Idempotency-Key's batch was loaded before: the first answer.")
    firstQuarantined: list[QuarantinedLineOut] = Field(description="The first 10 quarantined events, in line order.")


def answer_body(outcome: BatchOutcome) -> dict:
    """The JSON answer of a batch (also what a retry gets)."""
    return {"received": outcome.lines_read, "accepted": outcome.accepted, "duplicates": outcome.duplicates,
            "quarantined": outcome.quarantined, "replayed": outcome.replayed,
            "firstQuarantined": [{"line": q.line, "reason": q.reason, "detail": q.detail}
                                 for q in outcome.first_quarantined]}


async def read_capped_body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) as soon as it passes ``limit`` bytes (by its
    Content-Length at once), then inflated within ``limit`` when it is ``Content-Encoding: gzip``."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise ApiError(413, "body_too_large", f"the request body is over {limit // 1024 // 1024} MiB")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, "body_too_large", f"the request body is over {limit // 1024 // 1024} MiB")
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return bytes(body)
    if encoding != "gzip":
        raise ApiError(415, "unsupported_content_encoding", f"send the body plain or gzip, not {encoding!r}")
    try:
        return gunzip_capped(bytes(body), limit)
    except BatchRefused as refusal:
        raise ApiError(refusal.status, refusal.code, refusal.message) from None


def load_lines(services: ApiServices, source: str, batch_key: str, lines: list[Line], size: int) -> BatchOutcome:
    """Load a live batch on the API's ingest connections (called in the thread pool)."""
    now = services.clock()
    validator = EventValidator(now=now, retention_days=services.settings.raw_retention_days)
    with services.ingest_pool.connection() as conn, services.pool.connection() as ddl_conn:
        return load_batch(conn, ddl_conn, validator, source=source, batch_key=batch_key, lines=lines, size=size,
                          received_at=now)


def _split_and_load(services: ApiServices, batch_key: str, body: bytes) -> BatchOutcome:
    return load_lines(services, INGEST_API_SOURCE, batch_key, batch_lines(body), len(body))


@router.post(
    "/events", name="ingest_events", response_model=IngestAnswer, summary="Send usage events",
    responses={status: {"model": ErrorBody, "description": description or ERROR_DESCRIPTIONS[status]}
               for status, description in (
                   (400, ""), (401, ""), (403, "Not an ingest key (`ingest_key_required`)."),
                   (409, ""), (413, f"Over {MAX_BATCH_EVENTS:,} events (`too_many_events`) or over "
                                    f"{MAX_BATCH_BYTES // 1024 // 1024} MiB, decompressed (`body_too_large`)."),
                   (415, "A Content-Encoding other than gzip (`unsupported_content_encoding`)."), (503, ""))},
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "array", "items": {"type": "object"},
                                        "maxItems": MAX_BATCH_EVENTS}},
        "application/x-ndjson": {"schema": {"type": "string", "description": "One JSON event per line."}}}}},
)
async def ingest_events(
    request: Request, key: IngestKey, services: Services,
    idempotency_key: Annotated[str | None, Header(
        alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$",
        description="A retried batch with the same key answers what the first did and writes nothing again.")] = None,
) -> JsonResponse:
    """Usage events of any organizations, as a JSON array or JSON lines (`Content-Encoding: gzip`
    accepted): at most 10,000 events and 5 MiB (decompressed). Each event follows the event
    contract (`timestamp`, `customer_id`, `request_id`, ...); the batch is loaded in one
    transaction, exactly once per (customer_id, request_id), and appears in `/usage` within
    seconds. Needs an ingest key."""
    body = await read_capped_body(request, MAX_BATCH_BYTES)
    batch_key = f"{key.key_id}/{idempotency_key or uuid.uuid4()}"
    try:
        # Decoding and loading in one trip to the thread pool: the event loop stays free for
        # the other requests, and a batch waits for a thread once.
        outcome = await run_in_threadpool(_split_and_load, services, batch_key, body)
    except BatchRefused as refusal:
        raise ApiError(refusal.status, refusal.code, refusal.message) from None
    except BatchKeyReused:
        raise ApiError(409, "idempotency_key_reused", "this Idempotency-Key was used for a different batch") from None
    return JsonResponse(answer_body(outcome), headers={"Idempotent-Replayed": "true"} if outcome.replayed else None)
