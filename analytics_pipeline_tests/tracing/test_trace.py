"""Traces of an accepted, a duplicate and a quarantined request, found at their object and line."""

from decimal import Decimal

from analytics_pipeline.tracing.sources import describe_source
from analytics_pipeline.tracing.trace import describe, trace_request
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.tracing.conftest import FIRST_KEY, HOUR, SECOND_KEY


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
    assert describe_source("kinesis", "shardId-000000000001/4959", None).fields == {
        "source": "kinesis", "shard_id": "shardId-000000000001", "sequence_number": "4959", "position": None}
    assert describe_source("api", "batch-7", 3).description == "API batch batch-7, event 3"
    assert describe_source("firehose", "req-1", 2).kind == "firehose_request"
    assert describe_source("something-new", "k", 1).description == "something-new k, position 1"
