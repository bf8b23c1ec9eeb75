"""The data quality dashboard counts every line that came in, by any path: S3 objects and the
live paths' deliveries (ingest API batches, Firehose requests, Kinesis shard ranges)."""

from datetime import UTC, datetime, timedelta

import orjson

from analytics_pipeline.ingestion.contract import EventValidator
from analytics_pipeline.ingestion.live import FIREHOSE_SOURCE, INGEST_API_SOURCE, KINESIS_SOURCE, load_batch
from analytics_pipeline.ingestion.loader import Delivery, ObjectLoader
from analytics_pipeline.warehouse.database import connect

NOW = datetime(2026, 9, 14, 11, 40, tzinfo=UTC)  # the validator's clock and the live batches' arrival
HOUR = NOW.replace(minute=0)
DELIVERY_COLUMNS = ("objects_loaded", "lines_read", "accepted", "duplicates", "quarantined",
                    "live_batches_loaded", "live_accepted")


def line(number: int, request_id: str, *, minute: int | None = None, tokens: int = 100) -> tuple:
    at = HOUR + timedelta(minutes=number if minute is None else minute)
    body = {"timestamp": at.isoformat(), "customer_id": "org-a", "request_id": request_id, "status_code": 200,
            "tokens_input": tokens}
    return number, orjson.dumps(body), None, None


def dashboard_hour(conn, hour: datetime) -> dict:
    row = conn.execute(f"SELECT {', '.join(DELIVERY_COLUMNS)}, ingest_lag_minutes "  # noqa: S608 - fixed names
                       "FROM analytics_view_data_quality_dashboard WHERE hour = %s", (hour,)).fetchone()
    return dict(zip((*DELIVERY_COLUMNS, "ingest_lag_minutes"), row, strict=True))


def test_the_dashboard_counts_live_deliveries_beside_s3_objects(warehouse_url):
    validator = EventValidator(now=NOW)
    with connect(warehouse_url) as conn, connect(warehouse_url, autocommit=True) as ddl:
        # An S3 object of the hour: 3 lines, 2 accepted, 1 malformed.
        s3_lines = [line(1, "s3-1"), line(2, "s3-2"), (3, b"{not json", None, None)]
        ObjectLoader(conn, ddl, validator).load_one(
            Delivery("2026/09/14/11/a.jsonl", "etag-a", 1, HOUR, lambda: s3_lines, HOUR))
        # The live paths in the same hour: 2 accepted by the API, 1 accepted and 1 duplicate of the
        # S3 object by Firehose, 1 accepted and 1 conflicting duplicate (quarantined) by Kinesis.
        for source, key, lines in (
                (INGEST_API_SOURCE, "k/api-1", [line(1, "api-1"), line(2, "api-2")]),
                (FIREHOSE_SOURCE, "k/fh-1", [line(1, "fh-1"), line(2, "s3-1", minute=1)]),
                (KINESIS_SOURCE, "usage/shard-0/1", [line(1, "kin-1"), line(2, "s3-2", tokens=5)])):
            load_batch(conn, ddl, validator, source=source, batch_key=key, lines=lines, size=1, received_at=NOW)
        # An hour with nothing but an API batch.
        load_batch(conn, ddl, validator, source=INGEST_API_SOURCE, batch_key="k/api-2", lines=[line(3, "api-3")],
                   size=1, received_at=NOW + timedelta(hours=1))

        figures, live_only = dashboard_hour(conn, HOUR), dashboard_hour(conn, HOUR + timedelta(hours=1))
    assert {name: figures[name] for name in DELIVERY_COLUMNS} == {
        "objects_loaded": 1, "lines_read": 9, "accepted": 6, "duplicates": 1, "quarantined": 2,
        "live_batches_loaded": 3, "live_accepted": 4}
    assert figures["ingest_lag_minutes"] is not None
    # The ingest lag is the S3 objects' (a live batch's delivery hour is the hour it arrived in:
    # its "lag" past the hour's end would be negative, meaningless).
    assert live_only == {"objects_loaded": 0, "lines_read": 1, "accepted": 1, "duplicates": 0, "quarantined": 0,
                         "live_batches_loaded": 1, "live_accepted": 1, "ingest_lag_minutes": None}
