"""FOCUS cost exports (FinOps Open Cost and Usage Specification) as daily cost rows.

An export is CSV, plain or gzip (detected by content), one line per charge, with at least
the columns ``ChargePeriodStart``, ``ChargePeriodEnd``, ``BillingCurrency``,
``ServiceName``, ``Tags`` and the cost column used (``BilledCost`` by default, the invoiced
amount like Cost Explorer's ``UnblendedCost``; ``EffectiveCost`` amortizes commitments).
``Tags`` is a JSON object; the tenant is its ``customer_id`` (or the AWS export's
``user:customer_id``) and a line without it, or with an empty value, is shared cost. Its
``environment`` and ``service`` tags (also with the ``user:`` prefix) and the optional
``ServiceCategory`` column decide the row's environment and cost category
(:mod:`analytics_pipeline.costs.infra_costs`).

Objects are laid out as AWS Data Exports writes them: ``BILLING_PERIOD=YYYY-MM/<name>.csv.gz``
under the export's data location, so a window lists only its billing periods' prefixes.

A charge whose period covers several days (a monthly fee) is spread over those days in
proportion to the time it covers in each, to 10 decimals, the last day taking the
remainder, so the parts add up to the charge exactly.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from analytics_pipeline.costs.infra_costs import (
    DEFAULT_TENANT_TAG,
    ENVIRONMENT_TAG,
    SERVICE_TAG,
    InfraCost,
    InfraCostError,
    aggregate_costs,
    cost_category,
    environment_of,
    service_tag_of,
)
from analytics_pipeline.storage.object_store import ObjectStore

DEFAULT_COST_COLUMN = "BilledCost"
COST_COLUMNS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")
REQUIRED_COLUMNS = ("ChargePeriodStart", "ChargePeriodEnd", "BillingCurrency", "ServiceName", "Tags")
BILLING_PERIOD_PREFIX = "BILLING_PERIOD={month:%Y-%m}/"
_SPLIT_QUANTUM = Decimal("1e-10")
_GZIP_MAGIC = b"\x1f\x8b"


class FocusFormatError(InfraCostError):
    """A FOCUS file that cannot be read as it is; the message names the object and line."""


def _timestamp(text: str, where: str) -> datetime:
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise FocusFormatError(f"{where}: {text!r} is not an ISO 8601 timestamp") from None
    # FOCUS timestamps are UTC; exports that drop the zone still mean UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_tags(text: str, where: str = "Tags") -> dict:
    """A FOCUS ``Tags`` JSON object (empty for an empty cell)."""
    if not text or not text.strip():
        return {}
    try:
        tags = json.loads(text)
    except json.JSONDecodeError:
        raise FocusFormatError(f"{where}: Tags is not JSON: {text[:120]!r}") from None
    if not isinstance(tags, dict):
        raise FocusFormatError(f"{where}: Tags is not a JSON object: {text[:120]!r}")
    return tags


def tag_value(tags: dict, key: str) -> str | None:
    """The stripped value of tag ``key`` (or the AWS export's ``user:<key>``), None when absent or blank."""
    for name in (key, f"user:{key}"):
        value = tags.get(name)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def tenant_from_tags(text: str, tag_key: str = DEFAULT_TENANT_TAG, where: str = "Tags") -> str | None:
    """The tenant named by a FOCUS ``Tags`` JSON object, or None for shared (untagged) cost."""
    return tag_value(parse_tags(text, where), tag_key)


def split_by_day(amount: Decimal, start: datetime, end: datetime) -> list[tuple[date, Decimal]]:
    """``amount`` over the UTC days of ``[start, end)`` in proportion to the time in each."""
    if end <= start:
        return [(start.date(), amount)]
    days: list[tuple[date, timedelta]] = []
    cursor = start
    while cursor < end:
        next_midnight = datetime.combine(cursor.date() + timedelta(days=1), datetime.min.time(), UTC)
        stop = min(next_midnight, end)
        days.append((cursor.date(), stop - cursor))
        cursor = stop
    if len(days) == 1:
        return [(days[0][0], amount)]
    total = (end - start).total_seconds()
    parts = [(day, (amount * Decimal(span.total_seconds()) / Decimal(total)).quantize(_SPLIT_QUANTUM, ROUND_HALF_EVEN))
             for day, span in days[:-1]]
    parts.append((days[-1][0], amount - sum((p for _, p in parts), Decimal(0))))
    return parts


@dataclass
class FocusReadStats:
    """Counts over the lines read, for the materialization's metadata."""

    objects: list[str] = field(default_factory=list)
    lines: int = 0
    lines_in_window: int = 0
    multi_day_lines: int = 0
    charge_categories: Counter = field(default_factory=Counter)


def parse_focus_csv(data: bytes, *, start: date, end: date, cost_column: str = DEFAULT_COST_COLUMN,
                    tag_key: str = DEFAULT_TENANT_TAG, object_key: str = "focus.csv",
                    stats: FocusReadStats | None = None) -> list[InfraCost]:
    """The cost rows of one FOCUS CSV object that fall on the days ``[start, end)``.

    Lines outside the window are skipped (an export holds its whole billing period); a line
    that cannot be read raises :class:`FocusFormatError` naming the object and line, since
    dropping a charge would silently change the bill.
    """
    if cost_column not in COST_COLUMNS:
        raise ValueError(f"unknown FOCUS cost column {cost_column!r}; expected one of {', '.join(COST_COLUMNS)}")
    stats = stats if stats is not None else FocusReadStats()
    if data[:2] == _GZIP_MAGIC:
        data = gzip.decompress(data)
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    missing = [c for c in (*REQUIRED_COLUMNS, cost_column) if c not in (reader.fieldnames or [])]
    if missing:
        raise FocusFormatError(f"{object_key}: missing FOCUS column(s) {', '.join(missing)} "
                               f"(header: {', '.join(reader.fieldnames or [])})")
    window_start = datetime.combine(start, datetime.min.time(), UTC)
    window_end = datetime.combine(end, datetime.min.time(), UTC)
    rows: list[InfraCost] = []
    for line in reader:
        stats.lines += 1
        where = f"{object_key} line {reader.line_num}"
        period_start = _timestamp(line["ChargePeriodStart"], where)
        period_end = _timestamp(line["ChargePeriodEnd"], where)
        if period_end <= window_start or period_start >= window_end:
            continue
        text = (line[cost_column] or "").strip()
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise FocusFormatError(f"{where}: {cost_column} {text!r} is not a number") from None
        if not amount.is_finite():
            raise FocusFormatError(f"{where}: {cost_column} {text!r} is not finite")
        currency = (line["BillingCurrency"] or "").strip()
        if not currency:
            raise FocusFormatError(f"{where}: BillingCurrency is empty")
        tags = parse_tags(line["Tags"], where)
        tenant = tag_value(tags, tag_key)
        service = (line["ServiceName"] or "").strip() or "(no service)"
        service_tag = service_tag_of(tag_value(tags, SERVICE_TAG))
        details = {"environment": environment_of(tag_value(tags, ENVIRONMENT_TAG)), "service_tag": service_tag,
                   "category": cost_category(service_tag, service, line.get("ServiceCategory"))}
        stats.lines_in_window += 1
        stats.charge_categories[(line.get("ChargeCategory") or "").strip() or "(none)"] += 1
        parts = split_by_day(amount, period_start, period_end)
        if len(parts) > 1:
            stats.multi_day_lines += 1
        rows.extend(InfraCost(day, tenant, service, part, currency, **details)
                    for day, part in parts if start <= day < end)
    return rows


def billing_periods(start: date, end: date) -> list[date]:
    """The first days of the months that the days ``[start, end)`` fall in."""
    months: list[date] = []
    month = start.replace(day=1)
    while month < end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


@dataclass(frozen=True)
class FocusFetch:
    rows: list[InfraCost]
    stats: FocusReadStats


def read_focus_costs(store: ObjectStore, start: date, end: date, *, cost_column: str = DEFAULT_COST_COLUMN,
                     tag_key: str = DEFAULT_TENANT_TAG) -> FocusFetch:
    """The daily cost per tenant and service of ``[start, end)`` from the FOCUS exports in ``store``.

    Lists only the ``BILLING_PERIOD=YYYY-MM/`` prefixes of the window's months. A billing
    period without any object is an error: an export that has not arrived must not look
    like a day without cost.
    """
    stats = FocusReadStats()
    rows: list[InfraCost] = []
    for month in billing_periods(start, end):
        prefix = BILLING_PERIOD_PREFIX.format(month=month)
        objects = [o for o in store.list(prefix) if o.key.endswith((".csv", ".csv.gz"))]
        if not objects:
            raise FocusFormatError(f"no FOCUS export objects (*.csv, *.csv.gz) under "
                                   f"{store.url.rstrip('/')}/{prefix}")
        for obj in objects:
            stats.objects.append(obj.key)
            rows.extend(parse_focus_csv(store.read(obj.key), start=start, end=end, cost_column=cost_column,
                                        tag_key=tag_key, object_key=obj.key, stats=stats))
    return FocusFetch(rows=aggregate_costs(rows), stats=stats)


def iter_days(start: date, end: date) -> Iterable[date]:
    day = start
    while day < end:
        yield day
        day += timedelta(days=1)
