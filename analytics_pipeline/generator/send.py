"""Send generated events through the live paths: the ingest API, Firehose HTTP endpoint
delivery, a Kinesis data stream. Used by ``analytics-pipeline generate --send`` and the
benchmarks; each sender speaks the path's own format (no code path of ours is skipped).

Firehose and Kinesis records are CloudWatch Logs subscription payloads, what a subscription
filter sends: gzip JSON ``DATA_MESSAGE`` envelopes whose log events' messages are the events.
"""

from __future__ import annotations

import base64
import gzip
import itertools
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import orjson


@dataclass
class SendSummary:
    """What a sender sent and what the path answered (the API's counts; Firehose and Kinesis
    acknowledge only receipt)."""

    requests: int = 0
    events: int = 0
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0


def chunks(lines: Iterable[bytes], size: int) -> Iterator[list[bytes]]:
    """``lines`` in lists of ``size`` (the last one shorter)."""
    it = iter(lines)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def ndjson(lines: list[bytes]) -> bytes:
    return b"\n".join(lines) + b"\n"


def cloudwatch_payload(lines: list[bytes], log_group: str = "/platform/usage", log_stream: str = "generator",
                       at_ms: int | None = None) -> bytes:
    """A CloudWatch Logs subscription payload (gzip JSON) whose log events are ``lines``."""
    at_ms = at_ms if at_ms is not None else int(time.time() * 1000)
    return gzip.compress(orjson.dumps({
        "messageType": "DATA_MESSAGE", "owner": "000000000000", "logGroup": log_group, "logStream": log_stream,
        "subscriptionFilters": ["usage-events"],
        "logEvents": [{"id": str(i), "timestamp": at_ms, "message": line.decode()} for i, line in enumerate(lines)]}),
        compresslevel=1)


def firehose_request(records: list[bytes], request_id: str | None = None, at_ms: int | None = None
                     ) -> tuple[str, bytes]:
    """(request id, body) of a Firehose HTTP endpoint delivery request carrying ``records``."""
    request_id = request_id or str(uuid.uuid4())
    at_ms = at_ms if at_ms is not None else int(time.time() * 1000)
    return request_id, orjson.dumps({"requestId": request_id, "timestamp": at_ms,
                                     "records": [{"data": base64.b64encode(r).decode()} for r in records]})


def send_http(client, token: str, lines: Iterable[bytes], batch_size: int = 1000) -> SendSummary:
    """POST ``lines`` to ``/analytics/v1/events`` (an httpx client on the API's base URL) in
    NDJSON batches, each with an Idempotency-Key, retried once on a transport error."""
    summary = SendSummary()
    for batch in chunks(lines, batch_size):
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4()),
                   "Content-Type": "application/x-ndjson"}
        body = ndjson(batch)
        for attempt in range(2):
            try:
                response = client.post("/analytics/v1/events", content=body, headers=headers)
                break
            except Exception:  # noqa: BLE001 - a transport error: the same key makes the retry safe
                if attempt:
                    raise
        response.raise_for_status()
        answer = response.json()
        summary.requests += 1
        summary.events += len(batch)
        summary.accepted += answer["accepted"]
        summary.duplicates += answer["duplicates"]
        summary.quarantined += answer["quarantined"]
    return summary


def send_firehose(client, access_key: str, lines: Iterable[bytes], events_per_record: int = 100,
                  records_per_request: int = 10) -> SendSummary:
    """Deliver ``lines`` to ``/analytics/v1/firehose`` as Firehose does, records of CloudWatch
    Logs payloads."""
    summary = SendSummary()
    for group in chunks(chunks(lines, events_per_record), records_per_request):
        request_id, body = firehose_request([cloudwatch_payload(events) for events in group])
        response = client.post("/analytics/v1/firehose", content=body, headers={
            "X-Amz-Firehose-Request-Id": request_id, "X-Amz-Firehose-Access-Key": access_key,
            "X-Amz-Firehose-Protocol-Version": "1.0", "Content-Type": "application/json"})
        response.raise_for_status()
        summary.requests += 1
        summary.events += sum(len(events) for events in group)
    return summary


def send_kinesis(kinesis, stream: str, lines: Iterable[bytes], events_per_record: int = 100) -> SendSummary:
    """Put ``lines`` on a Kinesis data stream as CloudWatch Logs payload records, 500 per call
    (records a call failed to put are put again)."""
    summary = SendSummary()
    for group in chunks(chunks(lines, events_per_record), 500):
        records = [{"PartitionKey": str(uuid.uuid4()), "Data": cloudwatch_payload(events)} for events in group]
        while records:
            answer = kinesis.put_records(StreamName=stream, Records=records)
            summary.requests += 1
            records = [record for record, result in zip(records, answer["Records"], strict=True)
                       if "ErrorCode" in result]
        summary.events += sum(len(events) for events in group)
    return summary
