"""Traces of an accepted, a duplicate and a quarantined request, found at their object and line."""

from decimal import Decimal

from analytics_pipeline.ingestion.contract import EventValidator
from analytics_pipeline.tracing.sources import describe_source
from analytics_pipeline.tracing.trace import describe, trace_request
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.tracing.conftest import FIRST_KEY, HOUR, NOW, SECOND_KEY, line


def test_an_accepted_request_with_its_conflicting_duplicate_its_event_bucket_and_price(traced_warehouse):
    with connect(traced_warehouse) as conn:
        trace = trace_request(conn, "req-ok", ["org-a"])
    [entry] = trace.organizations
    accepted, duplicate = entry.lines
    assert (accepted.outcome, accepted.source.fields) == (
        "accepted", {"source": "usage_logs", "object_key": FIRST_KEY, "line": 1})
    assert accepted.delivery_hour == HOUR
    assert (duplicate.outcome, duplicate.source.fields["line"], duplicate.duplicate_of) == (
        "duplicate", 3, accepted.source)
    assert '"tokens_input":2000' in duplicate.raw_text
    assert entry.event["tokens_input"] == 1000 and entry.event["endpoint"] == "/v1/chat"
    # The price in effect since 2026-06-15: 0.00015 + 1000/1000 x 0.0025 + 100/1000 x 0.0125, as the rollups price it
    assert entry.price == Decimal("0.0039")
    assert entry.rollup.bucket_start == HOUR and entry.rollup.request_count == 2  # req-ok and req-other
    assert entry.rollup.cost_total == Decimal("0.0078")


def test_a_quarantined_request_shows_its_reason_and_raw_text(traced_warehouse):
    with connect(traced_warehouse) as conn:
        own = trace_request(conn, "req-bad", ["org-a"])
        finance = trace_request(conn, "req-bad")
    [entry] = own.organizations
    [line] = entry.lines
    assert (line.outcome, line.source.fields["object_key"], line.source.fields["line"]) == ("quarantined", FIRST_KEY, 4)
    assert line.reason and '"status_code":"abc"' in line.raw_text
    assert entry.accepted is None and entry.event is None
    # The unparseable line names no organization: only a finance-wide trace shows it.
    assert [(e.organization_id, [ln.source.fields["line"] for ln in e.lines]) for e in finance.organizations] == [
        ("org-a", [4]), (None, [5])]


def test_an_organization_traces_only_its_own_requests(traced_warehouse):
    with connect(traced_warehouse) as conn:
        org_b = trace_request(conn, "req-ok", ["org-b"])
        finance = trace_request(conn, "req-ok")
        nobody = trace_request(conn, "req-ok", ["org-c"])
        other = trace_request(conn, "req-bad", ["org-b"])
    assert [e.organization_id for e in org_b.organizations] == ["org-b"]
    assert org_b.organizations[0].accepted.source.fields["object_key"] == SECOND_KEY
    assert all(line.source.fields["object_key"] == SECOND_KEY for line in org_b.organizations[0].lines)
    assert [e.organization_id for e in finance.organizations] == ["org-a", "org-b"]
    assert not nobody.found and not other.found
    assert describe(nobody) == ["request req-ok: not found"]
    assert any("duplicate of object" in text for text in describe(finance))


def test_live_sources_describe_their_own_origin():
    assert describe_source("kinesis", "usage/shardId-000000000001/4959", 2).fields == {
        "source": "kinesis", "stream": "usage", "shard_id": "shardId-000000000001",
        "first_sequence_number": "4959", "position": 2}
    assert describe_source("ingest_api", "key1/batch-7", 3).description == "API batch batch-7, event 3"
    assert describe_source("firehose", "key1/req-1", 2).fields["request_id"] == "req-1"
    assert describe_source("something-new", "k", 1).description == "something-new k, position 1"


def test_a_request_sent_through_the_ingest_api_is_traced_to_its_batch_and_line(traced_warehouse):
    """The live path's ledger entries, as the ingest API writes them, are what a trace reads."""
    from analytics_pipeline.ingestion.live import INGEST_API_SOURCE, load_batch
    from analytics_pipeline.ingestion.records import batch_lines

    body = b"\n".join([line("req-live-1", org="org-c"), line("req-live-2", org="org-c")])
    with connect(traced_warehouse) as conn, connect(traced_warehouse, autocommit=True) as ddl:
        load_batch(conn, ddl, EventValidator(now=NOW), source=INGEST_API_SOURCE, batch_key="key1/batch-42",
                   lines=batch_lines(body), size=len(body), received_at=NOW)
        trace = trace_request(conn, "req-live-2", ["org-c"])
    [entry] = trace.organizations
    [accepted] = entry.lines
    assert accepted.outcome == "accepted"
    assert accepted.source.kind == "api_batch"
    assert accepted.source.fields == {"source": "ingest_api", "ingest_key_id": "key1", "batch": "batch-42",
                                      "position": 2}
