"""The demo summary's figures come from the domains' own functions: the ingestion ledger's totals
(ingestion.totals) and a month's cost lines (costs.summary)."""

import gzip
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import orjson

from analytics_pipeline.costs.summary import CostSummary, cost_summary
from analytics_pipeline.ingestion.contract import EventValidator
from analytics_pipeline.ingestion.loader import USAGE_LOGS_SOURCE, ObjectLoader
from analytics_pipeline.ingestion.totals import IngestTotals, ingest_totals
from analytics_pipeline.storage.object_store import LocalDirectoryStore
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline.warehouse.sql import load_sql

NOW = datetime(2026, 9, 14, 11, tzinfo=UTC)
HOUR = NOW - timedelta(days=3)


def _line(request_id: str) -> bytes:
    return orjson.dumps({"timestamp": (HOUR + timedelta(minutes=5)).isoformat().replace("+00:00", "Z"),
                         "customer_id": "org-a", "request_id": request_id, "status_code": 200, "duration_ms": 12.5,
                         "tokens_input": 10, "tokens_output": 2, "model_id": "m1"})


def _put(store: LocalDirectoryStore, hour: datetime, name: str, data: bytes):
    return store.write(f"{hour:%Y/%m/%d/%H}/{name}", data)


def test_ingest_totals_count_the_windows_objects_and_lines_of_the_source(warehouse_url, tmp_path):
    store = LocalDirectoryStore(tmp_path / "logs")
    lines = b"\n".join([_line("r1"), _line("r2"), _line("r1"), b"{broken"]) + b"\n"
    objects = [_put(store, HOUR, "a.jsonl.gz", gzip.compress(lines, mtime=0)),
               _put(store, HOUR, "b.bin", b"\x00\x01 not logs"),  # recorded as failed
               _put(store, HOUR + timedelta(hours=1), "c.jsonl.gz", gzip.compress(_line("r3") + b"\n", mtime=0))]
    with connect(warehouse_url) as conn, connect(warehouse_url, autocommit=True) as ddl:
        loader = ObjectLoader(conn, ddl, EventValidator(now=NOW), run_id="summary-test")
        for obj in objects:
            loader.ingest(store, obj)
        first_hour = ingest_totals(conn, USAGE_LOGS_SOURCE, HOUR, HOUR + timedelta(hours=1))
        both_hours = ingest_totals(conn, USAGE_LOGS_SOURCE, HOUR, HOUR + timedelta(hours=2))
        other_source = ingest_totals(conn, "another-source", HOUR, HOUR + timedelta(hours=2))
    assert first_hour == IngestTotals(objects_loaded=1, objects_failed=1, lines_read=4, accepted=2, duplicates=1,
                                      quarantined=1)
    assert both_hours == IngestTotals(2, 1, 5, 3, 1, 1)
    assert other_source == IngestTotals(0, 0, 0, 0, 0, 0)


def _infra_cost(conn, day: date, amount: str, environment: str) -> None:
    conn.execute(load_sql("costs/insert_infra_cost"), {
        "usage_date": day, "organization_id": None, "service": "AmazonEC2", "amount": Decimal(amount),
        "currency": "USD", "estimated": False, "source": "focus", "cost_metric": "EffectiveCost", "run_id": "t",
        "environment": environment, "service_tag": None, "cost_category": "compute"})


def test_a_months_cost_lines_are_its_days_all_and_productions(warehouse_url):
    september, october = datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)
    with connect(warehouse_url) as conn:
        assert cost_summary(conn, september, october) == CostSummary(None, None, None, None)  # nothing yet
        _infra_cost(conn, date(2026, 9, 1), "10.25", "production")
        _infra_cost(conn, date(2026, 9, 30), "4.50", "staging")
        _infra_cost(conn, date(2026, 10, 1), "99", "production")  # the next month's
        summary = cost_summary(conn, september, october)
    assert summary == CostSummary(infrastructure=Decimal("14.75"), production=Decimal("10.25"), attributed=None,
                                  margin=None)
