"""Usage log objects ingested by the real loader into a real warehouse, for the traces."""

import gzip
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from analytics_pipeline.ingestion.contract import EventValidator
from analytics_pipeline.ingestion.loader import ObjectLoader
from analytics_pipeline.rollups.pricing import parse_catalog, read_catalog_text, replace_model_prices
from analytics_pipeline.rollups.usage import Granularity, replace_usage_rollups
from analytics_pipeline.storage.object_store import LocalDirectoryStore
from analytics_pipeline.warehouse.database import connect

NOW = datetime(2026, 9, 14, 11, tzinfo=UTC)
HOUR = NOW - timedelta(days=1)
MODEL = "4f4758ff-3d0f-532b-b5ec-0cd1f695fc9f"  # since 2026-06-15: 0.00015 a request, 0.0025 / 0.0125 per 1k
FIRST_KEY = f"{HOUR:%Y/%m/%d/%H}/first.jsonl.gz"
SECOND_KEY = f"{HOUR:%Y/%m/%d/%H}/second.jsonl.gz"


def line(request_id, *, org="org-a", tokens=1000, status=200, **extra):
    body = {"timestamp": (HOUR + timedelta(minutes=7)).isoformat().replace("+00:00", "Z"), "customer_id": org,
            "request_id": request_id, "status_code": status, "duration_ms": 80.0, "tokens_input": tokens,
            "tokens_output": 100, "model_id": MODEL, "endpoint": "/v1/chat", **extra}
    return orjson.dumps(body)


@pytest.fixture
def traced_warehouse(warehouse_url, tmp_path):
    """Two objects: ``first`` holds org-a's req-ok (line 1), req-other (2), a conflicting repeat of
    req-ok (3), a line of req-bad with a status that is not a number (4) and an unparseable line
    naming req-bad (5); ``second`` holds org-b's own req-ok (line 1). Rollups computed."""
    store = LocalDirectoryStore(tmp_path / "logs")
    first = [line("req-ok"), line("req-other"), line("req-ok", tokens=2000), line("req-bad", status="abc"),
             b'{"request_id": "req-bad", truncated']
    store.write(FIRST_KEY, gzip.compress(b"\n".join(first) + b"\n", mtime=0))
    store.write(SECOND_KEY, gzip.compress(line("req-ok", org="org-b", tokens=5) + b"\n", mtime=0))
    with connect(warehouse_url) as conn, connect(warehouse_url, autocommit=True) as ddl:
        replace_model_prices(conn, parse_catalog(read_catalog_text(None)))
        conn.commit()
        loader = ObjectLoader(conn, ddl, EventValidator(now=NOW), run_id="trace-test")
        for obj in store.list(f"{HOUR:%Y/%m/%d/%H}/"):
            loader.ingest(store, obj)
        replace_usage_rollups(conn, Granularity.HOURLY, HOUR, HOUR + timedelta(hours=1))
    return warehouse_url
