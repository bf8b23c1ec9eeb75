"""Daily infrastructure cost rows and their table, ``analytics_infra_costs``.

A row is the cost of one service on one UTC day for one tenant (the ``customer_id`` tag) or,
with ``organization_id`` None, untagged cost shared by everyone. Both sources (Cost
Explorer, FOCUS exports) produce these rows; a day is replaced whole in one transaction.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import psycopg

from analytics_pipeline.warehouse.sql import load_sql

#: The cost allocation tag that names the tenant (the organization id) on AWS resources.
DEFAULT_TENANT_TAG = "customer_id"


class CostSource(enum.Enum):
    """Where infrastructure cost is read from. Member names are the run-config values."""

    focus = "focus"  # FOCUS cost exports (CSV) in object storage
    cost_explorer = "cost_explorer"  # the AWS Cost Explorer GetCostAndUsage API


class InfraCostError(ValueError):
    """Cost data that cannot be loaded as it is (mixed currencies, malformed amounts...)."""


@dataclass(frozen=True)
class InfraCost:
    """The cost of one service on one day, for one tenant or shared (``organization_id`` None)."""

    usage_date: date
    organization_id: str | None
    service: str
    amount: Decimal
    currency: str
    estimated: bool = False  # Cost Explorer's "Estimated": the day may still be revised

    @property
    def key(self) -> tuple[date, str | None, str]:
        return self.usage_date, self.organization_id, self.service


def aggregate_costs(rows: Iterable[InfraCost]) -> list[InfraCost]:
    """Sum rows with the same (day, tenant, service), in a stable order.

    A day's groups may be split over several Cost Explorer pages, and a FOCUS export holds
    one line per resource and charge; the table keeps one row per key. Amounts of one key
    in different currencies cannot be added and raise :class:`InfraCostError`.
    """
    merged: dict[tuple[date, str | None, str], InfraCost] = {}
    for row in rows:
        previous = merged.get(row.key)
        if previous is None:
            merged[row.key] = row
            continue
        if previous.currency != row.currency:
            raise InfraCostError(
                f"{row.usage_date} {row.organization_id or '(shared)'} {row.service}: costs in both "
                f"{previous.currency} and {row.currency}; convert them to one currency first")
        merged[row.key] = InfraCost(row.usage_date, row.organization_id, row.service,
                                    previous.amount + row.amount, row.currency, previous.estimated or row.estimated)
    return sorted(merged.values(), key=lambda r: (r.usage_date, r.organization_id is None, r.organization_id or "",
                                                  r.service))


@dataclass(frozen=True)
class InfraCostSummary:
    """What a load wrote: the figures a data engineer checks after each run."""

    days_replaced: list[date]
    row_count: int
    tenants: int
    services: int
    total: Decimal
    tagged_total: Decimal
    shared_total: Decimal
    estimated_days: list[date]
    currencies: list[str]
    totals_by_day: dict[date, Decimal] = field(default_factory=dict)


def replace_infra_costs(conn: psycopg.Connection, rows: Iterable[InfraCost], *, days: Iterable[date],
                        source: CostSource, metric: str, run_id: str | None = None) -> InfraCostSummary:
    """Replace the rows of ``days`` with ``rows`` in one transaction (idempotent).

    ``rows`` must all fall on ``days``; they are aggregated per (day, tenant, service) first.
    Days not listed keep what they had.
    """
    day_list = sorted(set(days))
    merged = aggregate_costs(rows)
    stray = sorted({r.usage_date for r in merged} - set(day_list))
    if stray:
        raise InfraCostError(f"cost rows for days outside the ones being replaced: {stray[:5]}")
    currencies = sorted({r.currency for r in merged})
    with conn.transaction():
        conn.execute(load_sql("costs/delete_infra_costs"), {"days": day_list})
        with conn.cursor() as cursor:
            cursor.executemany(load_sql("costs/insert_infra_cost"), [
                {"usage_date": r.usage_date, "organization_id": r.organization_id, "service": r.service,
                 "amount": r.amount, "currency": r.currency, "estimated": r.estimated, "source": source.value,
                 "cost_metric": metric, "run_id": run_id}
                for r in merged])
    by_day: dict[date, Decimal] = {day: Decimal(0) for day in day_list}
    for r in merged:
        by_day[r.usage_date] += r.amount
    tagged = sum((r.amount for r in merged if r.organization_id is not None), Decimal(0))
    shared = sum((r.amount for r in merged if r.organization_id is None), Decimal(0))
    return InfraCostSummary(
        days_replaced=day_list,
        row_count=len(merged),
        tenants=len({r.organization_id for r in merged if r.organization_id is not None}),
        services=len({r.service for r in merged}),
        total=tagged + shared,
        tagged_total=tagged,
        shared_total=shared,
        estimated_days=sorted({r.usage_date for r in merged if r.estimated}),
        currencies=currencies,
        totals_by_day=by_day,
    )
