"""The live paths start no Dagster run, so the rollups follow their batches through the ingest
ledger: the hours a batch added events to, the open hour included, are restated when their
rollups lag, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import orjson

from analytics_pipeline.defs.rollups.sensors import live_ingestion_restatement_sensor
from analytics_pipeline.ingestion.contract import EventValidator
from analytics_pipeline.ingestion.formats import Line
from analytics_pipeline.ingestion.live import FIREHOSE_SOURCE, INGEST_API_SOURCE, load_batch
from analytics_pipeline.rollups.pricing import parse_catalog, read_catalog_text, replace_model_prices
from analytics_pipeline.rollups.usage import Granularity, replace_usage_rollups
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.resources import pipeline_resources

NOW = datetime(2026, 7, 8, 16, 20, tzinfo=UTC)


def lines_at(times: list[datetime], prefix: str) -> list[Line]:
    return [(n, orjson.dumps({"timestamp": at.isoformat(), "customer_id": "org-1", "request_id": f"{prefix}-{n}",
                              "status_code": 200}), None, None) for n, at in enumerate(times, 1)]


def tick(instance, resources):
    with dg.build_sensor_context(instance=instance, resources=resources) as context:
        result = live_ingestion_restatement_sensor(context)
    if isinstance(result, dg.SkipReason):
        return []
    return [(r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
            for r in result.run_requests]


def test_hours_of_live_batches_are_restated_once_when_they_lag(warehouse_url, tmp_path,
                                                                                  dagster_instance):
    resources = pipeline_resources(warehouse_url, str(tmp_path), now=NOW)
    h13, h14, h16 = (NOW.replace(minute=0) - timedelta(hours=n) for n in (3, 2, 0))
    with connect(warehouse_url) as conn, connect(warehouse_url, autocommit=True) as ddl:
        with conn.transaction():
            replace_model_prices(conn, parse_catalog(read_catalog_text(None)))
        validator = EventValidator(now=NOW)
        for source, key, times in ((INGEST_API_SOURCE, "k/1", [h13 + timedelta(minutes=5), h16]),
                                   (FIREHOSE_SOURCE, "k/2", [h14 + timedelta(minutes=9)])):
            lines = lines_at(times, key)
            load_batch(conn, ddl, validator, source=source, batch_key=key, lines=lines, size=1, received_at=NOW)
    assert tick(dagster_instance, resources) == [("2026-07-08-13:00", "2026-07-08-14:00"),
                                                 ("2026-07-08-16:00", "2026-07-08-16:00")]

    with connect(warehouse_url) as conn:  # what hourly_rollups_job does for 13:00..14:00
        replace_usage_rollups(conn, Granularity.HOURLY, h13, h14 + timedelta(hours=1))
    assert tick(dagster_instance, resources) == [("2026-07-08-16:00", "2026-07-08-16:00")]
    with connect(warehouse_url) as conn:
        replace_usage_rollups(conn, Granularity.HOURLY, h16, h16 + timedelta(hours=1))
    assert tick(dagster_instance, resources) == []
