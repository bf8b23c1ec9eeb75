"""``POST /analytics/v1/firehose``: Amazon Data Firehose's HTTP endpoint delivery.

Firehose posts ``{"requestId", "timestamp", "records": [{"data": <base64>}]}`` with the headers
``X-Amz-Firehose-Request-Id`` and ``X-Amz-Firehose-Access-Key`` (here: an ingest key,
``api-keys create --ingest``), and expects ``200 {"requestId", "timestamp"}``; any other answer
(ours carry ``errorMessage``, and the project's ``error`` object) is a failed delivery that
Firehose retries until its retry duration runs out. Records are CloudWatch Logs subscription
payloads (what a subscription filter to a Firehose stream sends) or JSON events.

A request is one ledger entry keyed by its request id: a retried request writes nothing twice
(and its events are deduplicated by (customer_id, request_id) whatever the request id).
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Annotated

import orjson
import psycopg
import psycopg_pool
from fastapi import APIRouter, Header, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from analytics_pipeline.api.deps import Services, refuse_unless_ingest, verified_key
from analytics_pipeline.api.errors import ApiError, JsonResponse, error_body
from analytics_pipeline.api.routes.ingest import load_lines, read_capped_body
from analytics_pipeline.ingestion.live import FIREHOSE_SOURCE, BatchKeyReused
from analytics_pipeline.ingestion.records import MAX_RECORDS_BYTES, BatchRefused, record_lines

FIREHOSE_PATH = "/analytics/v1/firehose"
#: A request's body: Firehose buffers at most 64 MiB, and base64 makes it a third larger.
MAX_FIREHOSE_BODY_BYTES = MAX_RECORDS_BYTES * 4 // 3 + 1024 * 1024

router = APIRouter(prefix="/analytics/v1", tags=["ingestion"])
logger = logging.getLogger("analytics_pipeline.api")


class FirehoseAnswer(BaseModel):
    requestId: str
    timestamp: int


def firehose_answer(request_id: str, clock_ms: int, status: int = 200, code: str | None = None,
                    message: str | None = None, headers: dict[str, str] | None = None) -> JsonResponse:
    """Firehose's answer: ``{"requestId", "timestamp"}``, plus ``errorMessage`` (and the
    project's ``error`` object) on a refusal."""
    body: dict = {"requestId": request_id, "timestamp": clock_ms}
    if code is not None:
        body["errorMessage"] = message
        body.update(error_body(code, message or ""))
    return JsonResponse(body, status_code=status, headers=headers)


def decoded_records(body: bytes) -> tuple[str | None, list[bytes]]:
    """The request id and the records' data of a Firehose request body; BatchRefused 400 when it
    is not one."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BatchRefused(400, "malformed_json", f"the body is not valid JSON ({error})") from None
    records = document.get("records") if isinstance(document, dict) else None
    if not isinstance(records, list):
        raise BatchRefused(400, "invalid_body", "a Firehose request is {requestId, timestamp, records: [...]}")
    data = []
    for number, record in enumerate(records, 1):
        encoded = record.get("data") if isinstance(record, dict) else None
        try:
            data.append(base64.b64decode(encoded, validate=True))
        except (TypeError, binascii.Error):
            raise BatchRefused(400, "invalid_record", f"record {number}'s data is not base64") from None
    request_id = document.get("requestId")
    return request_id if isinstance(request_id, str) else None, data


def _firehose_lines(body: bytes):
    request_id, records = decoded_records(body)
    return request_id, record_lines(records), sum(len(r) for r in records)


@router.post("/firehose", name="firehose_delivery", response_model=FirehoseAnswer,
             summary="Amazon Data Firehose HTTP endpoint delivery",
             responses={status: {"description": description} for status, description in (
                 (400, "Not a Firehose request; Firehose retries, then backs the records up to S3."),
                 (401, "Missing or invalid access key."), (403, "Not an ingest key."),
                 (409, "The request id was delivered before with other records."),
                 (413, "The records are over 64 MiB once decompressed."),
                 (503, "The warehouse is unavailable; Firehose retries."))})
async def firehose_delivery(
    request: Request, services: Services,
    request_id: Annotated[str, Header(alias="X-Amz-Firehose-Request-Id", min_length=1, max_length=255)],
    access_key: Annotated[str | None, Header(alias="X-Amz-Firehose-Access-Key", max_length=300)] = None,
) -> JsonResponse:
    """One Firehose delivery request. Point a Firehose stream's HTTP endpoint destination here,
    with an ingest key as its access key; CloudWatch Logs reaches it through a subscription
    filter. Records: CloudWatch Logs payloads (gzip; `CONTROL_MESSAGE` ignored) or JSON events."""
    clock = services.clock

    def now_ms() -> int:
        return int(clock().timestamp() * 1000)

    try:  # the key first: nothing of the body is read for a request without a valid ingest key
        key = refuse_unless_ingest(await verified_key(request, access_key))
        body = await read_capped_body(request, MAX_FIREHOSE_BODY_BYTES)
        try:
            body_request_id, lines, size = await run_in_threadpool(_firehose_lines, body)
        except BatchRefused as refusal:
            raise ApiError(refusal.status, refusal.code, refusal.message) from None
        if body_request_id is not None and body_request_id != request_id:
            raise ApiError(400, "request_id_mismatch", "the body's requestId is not X-Amz-Firehose-Request-Id")
        try:
            await run_in_threadpool(load_lines, services, FIREHOSE_SOURCE, f"{key.key_id}/{request_id}", lines, size)
        except BatchKeyReused:
            raise ApiError(409, "request_id_reused", "this request id was delivered before with other records") \
                from None
    except ApiError as error:
        logger.warning("firehose delivery %s refused: %s %s", request_id, error.status, error.code)
        return firehose_answer(request_id, now_ms(), error.status, error.code, error.message, error.headers)
    except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as error:
        # Firehose retries a 503 until its retry duration runs out: nothing of the request was written.
        logger.error("firehose delivery %s: warehouse unavailable: %s", request_id, type(error).__name__)
        return firehose_answer(request_id, now_ms(), 503, "warehouse_unavailable",
                               "the warehouse is unavailable; retry", {"Retry-After": "30"})
    return firehose_answer(request_id, now_ms())
