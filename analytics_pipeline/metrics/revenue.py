"""Revenue and MRR per organization and month, and the top customers by revenue and by usage.

**Usage revenue** is the month's billed usage: the daily rollups' ``cost_total``, usage priced
at the catalog price. An optional plans file (``ANALYTICS_PLANS_FILE``, JSON or TOML like the
budgets file) gives organizations a plan, a monthly commitment and a discount::

    {
      "currency": "USD",
      "default": {"plan": "pay-as-you-go", "discount_percent": 0},        # optional, for everyone else
      "organizations": {
        "<organization id>": {"plan": "enterprise", "monthly_commitment": "2000.00", "discount_percent": 15}
      }
    }

Per organization and month::

    discounted usage = usage revenue x (1 - discount_percent / 100)
    billed revenue   = max(monthly commitment, discounted usage)     (the commitment is a minimum spend)
    overage          = max(0, discounted usage - monthly commitment)
    MRR              = the month's billed revenue, summed over organizations for the platform

Without a plans file, billed revenue is the usage revenue. An organization with a plan but no
usage in the month still owes its commitment and gets a row. Amounts are Decimal, never float.

**Top customers**: every organization with a positive value ranked by billed revenue and by
usage (tokens), ties by organization id, with its rank the month before and the change
(previous rank - rank: positive moved up; None: not ranked then).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg

from analytics_pipeline.configuration.documents import document_amount, parse_document, read_document_file
from analytics_pipeline.warehouse.sql import fetch_rows, load_sql

REVENUE_CURRENCY = "USD"  # the price catalog's
RANKINGS = ("revenue", "usage")


class PlansFileError(ValueError):
    """A plans file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Plan:
    name: str | None = None
    monthly_commitment: Decimal = Decimal(0)
    discount_percent: Decimal = Decimal(0)


@dataclass(frozen=True)
class Plans:
    organizations: dict[str, Plan] = field(default_factory=dict)
    default: Plan = Plan()
    currency: str = REVENUE_CURRENCY
    source: str = ""

    def of(self, organization_id: str) -> Plan:
        return self.organizations.get(organization_id, self.default)


def _amount(value, where: str, *, maximum: Decimal | None = None) -> Decimal:
    amount = document_amount(value, where, error=PlansFileError)
    if not amount.is_finite() or amount < 0 or (maximum is not None and amount > maximum):
        bound = f"between 0 and {maximum}" if maximum is not None else "0 or more"
        raise PlansFileError(f"{where}: must be {bound}, not {value!r}")
    return amount


def _plan(data, where: str) -> Plan:
    if not isinstance(data, dict):
        raise PlansFileError(f"{where}: a plan is an object with plan, monthly_commitment, discount_percent")
    unknown = sorted(set(data) - {"plan", "monthly_commitment", "discount_percent"})
    if unknown:
        raise PlansFileError(f"{where}: unknown key(s) {', '.join(unknown)}")
    name = data.get("plan")
    if name is not None and not isinstance(name, str):
        raise PlansFileError(f"{where}.plan: a name, not {name!r}")
    return Plan(name, _amount(data.get("monthly_commitment", 0), f"{where}.monthly_commitment"),
                _amount(data.get("discount_percent", 0), f"{where}.discount_percent", maximum=Decimal(100)))


def parse_plans(text: str, *, fmt: str = "json", source: str = "plans") -> Plans:
    """Plans from the text of a JSON (``fmt="json"``) or TOML (``fmt="toml"``) file."""
    data = parse_document(text, fmt=fmt, source=source, kind="plans", error=PlansFileError)
    unknown = sorted(set(data) - {"currency", "default", "organizations"})
    if unknown:
        raise PlansFileError(f"{source}: unknown key(s) {', '.join(unknown)}; expected currency, default, "
                             "organizations")
    organizations = data.get("organizations", {})
    if not isinstance(organizations, dict):
        raise PlansFileError(f"{source}: 'organizations' must map organization ids to plans")
    currency = str(data.get("currency", REVENUE_CURRENCY)).strip().upper()
    if currency != REVENUE_CURRENCY:
        raise PlansFileError(f"{source}: plans in {currency}, but usage is priced in {REVENUE_CURRENCY}")
    return Plans(organizations={str(org): _plan(plan, f"{source}: organizations.{org}")
                                for org, plan in organizations.items()},
                 default=_plan(data.get("default", {}), f"{source}: default"), currency=currency, source=source)


def load_plans(path: str | Path) -> Plans:
    """Plans from a ``.json`` or ``.toml`` file; a missing or unreadable file raises PlansFileError."""
    text, fmt, source = read_document_file(path, kind="plans", error=PlansFileError)
    return parse_plans(text, fmt=fmt, source=source)


@dataclass(frozen=True)
class MonthlyRevenue:
    organization_id: str
    plan: str | None
    usage_revenue: Decimal
    discount_percent: Decimal
    discounted_usage: Decimal
    monthly_commitment: Decimal
    billed_revenue: Decimal  # the month's MRR
    overage: Decimal
    request_count: int
    tokens_total: int


def monthly_revenue(organization_id: str, usage_revenue: Decimal, request_count: int, tokens_total: int,
                    plan: Plan) -> MonthlyRevenue:
    """One organization's month under ``plan`` (see the module docstring)."""
    discounted = usage_revenue * (1 - plan.discount_percent / 100)
    return MonthlyRevenue(organization_id, plan.name, usage_revenue, plan.discount_percent, discounted,
                          plan.monthly_commitment, max(plan.monthly_commitment, discounted),
                          max(Decimal(0), discounted - plan.monthly_commitment), request_count, tokens_total)


@dataclass(frozen=True)
class RankedCustomer:
    rank: int
    organization_id: str
    value: Decimal
    previous_rank: int | None
    rank_change: int | None


@dataclass(frozen=True)
class RevenueReport:
    month: date
    organizations: list[MonthlyRevenue]  # by billed revenue, highest first

    @property
    def mrr(self) -> Decimal:
        return sum((o.billed_revenue for o in self.organizations), Decimal(0))

    @property
    def usage_revenue(self) -> Decimal:
        return sum((o.usage_revenue for o in self.organizations), Decimal(0))

    @property
    def committed(self) -> Decimal:
        return sum((o.monthly_commitment for o in self.organizations), Decimal(0))


def month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def replace_monthly_revenue(conn: psycopg.Connection, month: date, plans: Plans | None = None) -> RevenueReport:
    """Compute a month's revenue per organization and replace its rows in one transaction."""
    plans = plans or Plans()
    usage = {org: (revenue, requests, tokens) for org, revenue, requests, tokens in conn.execute(
        load_sql("metrics/usage_revenue_by_organization"), {"start_date": month, "end_date": month_end(month)})}
    committed = {org for org, plan in plans.organizations.items() if plan.monthly_commitment > 0}
    rows = [monthly_revenue(org, *usage.get(org, (Decimal(0), 0, 0)), plans.of(org))
            for org in sorted(set(usage) | committed)]
    with conn.transaction():
        conn.execute(load_sql("metrics/delete_monthly_revenue"), {"month": month})
        with conn.cursor() as cursor:
            cursor.executemany(load_sql("metrics/insert_monthly_revenue"), [
                {"month": month, **row.__dict__, "plan": row.plan, "currency": REVENUE_CURRENCY} for row in rows])
    return RevenueReport(month, sorted(rows, key=lambda r: (-r.billed_revenue, r.organization_id)))


def replace_top_customers(conn: psycopg.Connection, month: date,
                          limit: int = 10) -> dict[str, list[RankedCustomer]]:
    """Rank a month's organizations by revenue and by usage (from its revenue rows, and the month
    before's) and replace its rankings in one transaction; returns the top ``limit`` of each."""
    previous = (month - timedelta(days=1)).replace(day=1)
    with conn.transaction():
        conn.execute(load_sql("metrics/delete_top_customers"), {"month": month})
        conn.execute(load_sql("metrics/rank_top_customers"), {"month": month, "previous_month": previous})
    return top_customers(conn, month, limit=limit)


def top_customers(conn: psycopg.Connection, month: date, limit: int = 10) -> dict[str, list[RankedCustomer]]:
    """The top ``limit`` of each ranking of ``month``."""
    return {ranking: fetch_rows(conn, "metrics/top_customers_of_month",
                                {"month": month, "ranking": ranking, "limit": limit}, RankedCustomer)
            for ranking in RANKINGS}


#: A table for a person: its header, its rows and its total row (None: none), cells as values.
Table = tuple[list[str], list[list[object]], list[object] | None]


def revenue_table(report: RevenueReport, limit: int = 10) -> Table:
    """The organizations with the highest billed revenue, and the month's totals."""
    header = ["organization", "plan", "usage revenue", "discount %", "commitment", "billed (MRR)", "overage"]
    rows = [[r.organization_id, r.plan, r.usage_revenue,
             None if r.discount_percent is None else str(r.discount_percent), r.monthly_commitment, r.billed_revenue,
             r.overage] for r in report.organizations[:limit]]
    return header, rows, ["total", None, report.usage_revenue, None, report.committed, report.mrr, None]


def _change(c: RankedCustomer) -> str:
    if c.rank_change is None:
        return "new"
    return f"+{c.rank_change}" if c.rank_change > 0 else "=" if c.rank_change == 0 else str(c.rank_change)


def ranking_table(ranked: list[RankedCustomer], what: str) -> Table:
    """A ranking with its rank changes."""
    return (["#", "organization", what, "last month", "change"],
            [[c.rank, c.organization_id, c.value, c.previous_rank, _change(c)] for c in ranked], None)
