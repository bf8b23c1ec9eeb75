"""Per-tenant profitability: revenue (what we bill) against attributed infrastructure cost.

Revenue is the rollups' ``cost_total`` (usage priced at the catalog price, the amount
billed); cost is the tenant's attributed cost (``analytics_tenant_cost_attribution``) over
the same days. ``margin = revenue - cost`` and ``margin % = margin / revenue x 100``
(undefined, NULL, without revenue). Shared cost left unattributed appears as its own row
without organization, so the totals still hold every cent. The cost is shown per category
(compute, API, data transfer, storage, other): the attributed cents split in proportion to
the exact category amounts by largest remainder, so the categories add up to the cost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import psycopg

from analytics_pipeline.costs.attribution import CATEGORIES, allocate_proportionally, round_cents
from analytics_pipeline.money import CENT, CURRENCY
from analytics_pipeline.warehouse.sql import load_sql

#: The price catalog's currency: revenue is in USD.
REVENUE_CURRENCY = CURRENCY
UNATTRIBUTED_LABEL = "(unattributed shared cost)"


def margin_percent(revenue: Decimal, margin: Decimal) -> Decimal | None:
    """``margin / revenue`` in percent to 2 decimals; None without (positive) revenue."""
    return (margin / revenue * 100).quantize(CENT) if revenue > 0 else None


def split_cents(total: Decimal, exact: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """``total`` (whole cents) over the categories in proportion to their ``exact`` amounts,
    summing exactly; with credits (a negative amount) or nothing to go by, each category is
    rounded on its own and ``other`` takes the difference."""
    weights = {category: exact.get(category, Decimal(0)) for category in CATEGORIES}
    if total >= 0 and all(w >= 0 for w in weights.values()) and sum(weights.values()) > 0:
        return allocate_proportionally(total, weights)
    cents = {category: round_cents(w) for category, w in weights.items()}
    cents["other"] += total - sum(cents.values(), Decimal(0))
    return cents


class _Margin:
    """Margin = revenue - attributed cost, and its percent of revenue (a tenant's or a report's)."""

    revenue: Decimal
    attributed_cost: Decimal

    @property
    def margin(self) -> Decimal:
        return self.revenue - self.attributed_cost

    @property
    def margin_pct(self) -> Decimal | None:
        return margin_percent(self.revenue, self.margin)


@dataclass(frozen=True)
class TenantProfitability(_Margin):
    organization_id: str | None  # None: unattributed shared cost
    revenue: Decimal
    attributed_cost: Decimal
    request_count: int
    tokens_total: int
    category_costs: dict[str, Decimal] = field(default_factory=dict)  # cents, summing to attributed_cost

    @property
    def label(self) -> str:
        return self.organization_id or UNATTRIBUTED_LABEL


@dataclass(frozen=True)
class ProfitabilityReport(_Margin):
    period_start: date
    period_end: date  # exclusive
    is_month_to_date: bool
    tenants: list[TenantProfitability]  # by revenue, highest first; the unattributed row last

    @property
    def revenue(self) -> Decimal:
        return sum((t.revenue for t in self.tenants), Decimal(0))

    @property
    def attributed_cost(self) -> Decimal:
        return sum((t.attributed_cost for t in self.tenants), Decimal(0))

    @property
    def unprofitable(self) -> list[TenantProfitability]:
        return [t for t in self.tenants if t.organization_id is not None and t.margin < 0]


def build_report(rows: Iterable[TenantProfitability], *, period_start: date, period_end: date,
                 is_month_to_date: bool) -> ProfitabilityReport:
    tenants = sorted(rows, key=lambda t: (t.organization_id is None, -t.revenue, t.organization_id or ""))
    return ProfitabilityReport(period_start, period_end, is_month_to_date, tenants)


def _pct(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value}%"


def top_tenants_table(report: ProfitabilityReport, *, by: str,
                      limit: int = 10) -> tuple[list[str], list[list[object]], list[object]]:
    """The top tenants by ``revenue``, ``tokens`` or ``requests`` (header, rows, the report's totals):
    amounts exact, for a table that shows them to the cent."""
    keys = {"revenue": lambda t: t.revenue, "tokens": lambda t: t.tokens_total, "requests": lambda t: t.request_count}
    if by not in keys:
        raise ValueError(f"unknown ranking {by!r}; expected one of {', '.join(keys)}")
    ranked = sorted((t for t in report.tenants if t.organization_id is not None),
                    key=lambda t: (-keys[by](t), t.organization_id))[:limit]
    header = ["#", "organization", "revenue", "cost", "compute", "API", "data transfer", "storage", "other", "margin",
              "margin %", "requests", "tokens"]
    rows = [[i, t.organization_id, t.revenue, t.attributed_cost,
             *(t.category_costs.get(c, Decimal(0)) for c in CATEGORIES), t.margin, _pct(t.margin_pct),
             t.request_count, t.tokens_total] for i, t in enumerate(ranked, 1)]
    totals = [sum((t.category_costs.get(c, Decimal(0)) for t in report.tenants), Decimal(0)) for c in CATEGORIES]
    return header, rows, [None, "total", report.revenue, report.attributed_cost, *totals, report.margin,
                          _pct(report.margin_pct), None, None]


def load_profitability(conn: psycopg.Connection, period_start: date, period_end: date) -> list[TenantProfitability]:
    """Each tenant's revenue, usage and attributed cost over the days ``[period_start, period_end)``."""
    rows = []
    for organization_id, revenue, cost, requests, tokens, currencies, *by_category in conn.execute(
            load_sql("costs/profitability_inputs"), {"start_date": period_start, "end_date": period_end}):
        foreign = [c for c in (currencies or []) if c != REVENUE_CURRENCY]
        if foreign:
            raise ValueError(f"{organization_id or UNATTRIBUTED_LABEL}: attributed cost in {', '.join(foreign)} "
                             f"cannot be set against revenue in {REVENUE_CURRENCY}")
        categories = split_cents(cost, dict(zip(CATEGORIES, by_category, strict=True)))
        rows.append(TenantProfitability(organization_id, revenue, cost, int(requests), int(tokens), categories))
    return rows


def replace_profitability(conn: psycopg.Connection, period_start: date, period_end: date, *,
                          is_month_to_date: bool, run_id: str | None = None) -> ProfitabilityReport:
    """Compute the period's profitability and replace the rows of its month in one transaction."""
    report = build_report(load_profitability(conn, period_start, period_end), period_start=period_start,
                          period_end=period_end, is_month_to_date=is_month_to_date)
    with conn.transaction():
        conn.execute(load_sql("costs/delete_profitability"), {"period_start": period_start})
        with conn.cursor() as cursor:
            cursor.executemany(load_sql("costs/insert_profitability"), [
                {"period_start": period_start, "period_end": period_end, "is_month_to_date": is_month_to_date,
                 "organization_id": t.organization_id, "revenue": t.revenue, "attributed_cost": t.attributed_cost,
                 "margin": t.margin, "margin_pct": t.margin_pct, "request_count": t.request_count,
                 "tokens_total": t.tokens_total, "currency": REVENUE_CURRENCY, "run_id": run_id,
                 **{f"{category}_cost": t.category_costs.get(category, Decimal(0)) for category in CATEGORIES}}
                for t in report.tenants])
    return report


def month_bounds(moment: datetime | date) -> tuple[date, date]:
    """The first day of ``moment``'s month and of the next one."""
    first = date(moment.year, moment.month, 1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following
