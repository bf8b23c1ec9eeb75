"""One request id traced through the pipeline (``sql/tracing/``).

A request id is unique within its organization, so a trace is one entry per organization that
has it: the line that was accepted (its source, delivery hour and the event as stored), the later
lines that repeated it with other content (quarantined as ``conflicting_duplicate``: a duplicate
of the accepted line), lines quarantined for another reason whose raw text carries the id, the
hourly rollup bucket the event counts in and its price as the rollups price it.

Tenant isolation: ``organization_ids`` limits the trace to those organizations (an organization
key passes its own); None (a finance-wide key) searches every organization. A quarantined line
that cannot be parsed names no organization: only a finance-wide trace shows it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import psycopg

from analytics_pipeline.money import format_cost
from analytics_pipeline.tracing.sources import SourceRef, describe_source
from analytics_pipeline.warehouse.sql import compose_sql, load_sql

ACCEPTED, DUPLICATE, QUARANTINED = "accepted", "duplicate", "quarantined"
#: The keys an event line may name its organization by (the contract's customer_id, and its column name).
ORGANIZATION_FIELDS = ("customer_id", "organization_id")


@dataclass(frozen=True)
class TracedLine:
    """One line that carried the request id, and what became of it."""

    outcome: str
    source: SourceRef
    delivery_hour: datetime
    reason: str | None = None
    detail: str | None = None
    raw_text: str | None = None
    duplicate_of: SourceRef | None = None


@dataclass(frozen=True)
class RollupBucket:
    bucket_start: datetime
    request_count: int
    cost_total: Decimal
    computed_at: datetime


@dataclass
class OrganizationTrace:
    """What became of the request id in one organization."""

    organization_id: str | None
    accepted: TracedLine | None = None
    event: dict | None = None
    lines: list[TracedLine] = field(default_factory=list)  # every line: accepted, duplicates, quarantined
    rollup: RollupBucket | None = None
    price: Decimal | None = None
    price_note: str | None = None


@dataclass
class Trace:
    request_id: str
    organizations: list[OrganizationTrace] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.organizations)

    def as_json(self) -> dict:
        """The trace as plain JSON values (times ISO 8601, money as decimal strings rounded as exports round)."""
        return _plain(asdict(self)) | {"found": self.found}


def _plain(value):
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):  # every Decimal of a trace is money: the exports' one formatter
        return format_cost(value)
    return value


def known_organizations(conn: psycopg.Connection) -> list[str]:
    """Every organization with raw events."""
    return [row[0] for row in conn.execute(load_sql("tracing/known_organizations"))]


def _line_organization(raw_text: str | None, request_id: str) -> tuple[bool, str | None]:
    """Whether a quarantined line's text is this request's (its request_id field, when it parses as
    JSON; else the id appearing in it), and the organization it names (None: none can be read)."""
    try:
        body = json.loads(raw_text or "")
    except ValueError:
        return True, None
    if not isinstance(body, dict):
        return True, None
    if str(body.get("request_id")) != request_id:
        return False, None
    organization = next((body[name] for name in ORGANIZATION_FIELDS if isinstance(body.get(name), str)), None)
    return True, organization


def _event_as_stored(conn: psycopg.Connection, organization_id: str, request_id: str, at: datetime) -> dict | None:
    cursor = conn.execute(load_sql("tracing/stored_event"),
                          {"organization_id": organization_id, "request_id": request_id, "event_time": at})
    row = cursor.fetchone()
    return dict(zip([c.name for c in cursor.description], row, strict=True)) if row else None


def _price_and_bucket(conn: psycopg.Connection, entry: OrganizationTrace, event: dict) -> None:
    query = compose_sql("tracing/event_price", priced_events=compose_sql(
        "rollups/priced_events", price_periods=compose_sql("rollups/price_periods")))
    rows = conn.execute(query, {
        "range_start": event["event_time"], "range_end": event["event_time"] + timedelta(microseconds=1),
        "organization_id": entry.organization_id, "model_id": event["model_id"],
        "status_code": event["status_code"]}).fetchall()
    prices = {row[0] for row in rows}
    if len(prices) == 1 and None not in prices:
        entry.price = prices.pop()
    elif None in prices:
        entry.price_note = "no price in effect for this model at this time (the rollups refuse such events)"
    else:
        entry.price_note = ("several events of this organization share this instant, model and status with "
                            "different prices; see the event's tokens")
    bucket = next((row for row in rows if row[1] is not None), None)
    if bucket is not None:
        entry.rollup = RollupBucket(*bucket[1:])
    elif not entry.price_note:
        entry.price_note = "not yet in an hourly rollup"


def trace_request(conn: psycopg.Connection, request_id: str, organization_ids: list[str] | None = None) -> Trace:
    """Trace ``request_id`` in ``organization_ids`` (None: every organization)."""
    trace = Trace(request_id)
    searched = organization_ids if organization_ids is not None else known_organizations(conn)
    by_org: dict[str | None, OrganizationTrace] = {}
    accepted_rows = conn.execute(load_sql("tracing/accepted_lines"),
                                 {"organization_ids": searched, "request_id": request_id}).fetchall()
    for (organization_id, _request, event_time, line, _hash, _object_id, source, key, _etag, delivery_hour,
         _ingested_at, _run_id) in accepted_rows:
        entry = by_org.setdefault(organization_id, OrganizationTrace(organization_id))
        entry.accepted = TracedLine(ACCEPTED, describe_source(source, key, line), delivery_hour)
        entry.lines.append(entry.accepted)
        entry.event = _event_as_stored(conn, organization_id, request_id, event_time)
        if entry.event is not None:
            _price_and_bucket(conn, entry, entry.event)
        for key2, line2, detail, raw_text, _at, source2, hour2 in conn.execute(
                load_sql("tracing/conflicting_duplicates"),
                {"organization_id": organization_id, "request_id": request_id}):
            entry.lines.append(TracedLine(DUPLICATE, describe_source(source2, key2, line2), hour2,
                                          reason="conflicting_duplicate", detail=detail, raw_text=raw_text,
                                          duplicate_of=entry.accepted.source))
    allowed = set(searched)
    for key, line, reason, detail, raw_text, _at, source, hour in conn.execute(
            load_sql("tracing/quarantined_lines"), {"request_id": request_id}):
        mine, organization = _line_organization(raw_text, request_id)
        if not mine:
            continue
        if organization_ids is not None and organization not in allowed:
            continue  # another tenant's line, or one that names no tenant: only finance sees it
        entry = by_org.setdefault(organization, OrganizationTrace(organization))
        entry.lines.append(TracedLine(QUARANTINED, describe_source(source, key, line), hour, reason=reason,
                                      detail=detail, raw_text=raw_text))
    trace.organizations = sorted(by_org.values(), key=lambda e: (e.organization_id is None, e.organization_id or ""))
    return trace


def describe(trace: Trace) -> list[str]:
    """The trace as lines of text (the CLI's output)."""
    if not trace.found:
        return [f"request {trace.request_id}: not found"]
    out = [f"request {trace.request_id}"]
    for entry in trace.organizations:
        out.append(f"organization {entry.organization_id or '(unreadable line: no organization)'}")
        for line in entry.lines:
            hour = f"{line.delivery_hour:%Y-%m-%d %H:00Z}"
            text = f"  {line.outcome:<11} {line.source.description}, delivered in hour {hour}"
            if line.duplicate_of is not None:
                text += f"; duplicate of {line.duplicate_of.description}"
            if line.reason and line.outcome == QUARANTINED:
                text += f"; reason {line.reason}" + (f": {line.detail}" if line.detail else "")
            out.append(text)
            if line.raw_text and line.outcome != ACCEPTED:
                out.append(f"              raw: {line.raw_text[:300]}")
        if entry.event is not None:
            shown = {k: v for k, v in entry.event.items() if v is not None and k not in ("content_hash",)}
            out.append("  event as stored: " + ", ".join(f"{k}={_plain(v)}" for k, v in shown.items()))
        if entry.rollup is not None:
            out.append(f"  counts in the hourly rollup of {entry.rollup.bucket_start:%Y-%m-%d %H:00Z} "
                       f"({entry.rollup.request_count} requests, cost {format_cost(entry.rollup.cost_total)})")
        if entry.price is not None:
            out.append(f"  price: {format_cost(entry.price)}")
        if entry.price_note:
            out.append(f"  note: {entry.price_note}")
    return out
