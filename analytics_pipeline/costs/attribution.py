"""Per-tenant cost attribution: tagged cost plus a usage-driven share of shared cost, in cents.

For each day and tenant::

    exact    = direct (the tenant's tagged cost) + shared x driver / sum of drivers
    attributed = exact rounded to the cent by largest remainder

Largest remainder: every exact amount is rounded down to the cent, then the cents still
missing to reach the day's total (rounded half away from zero, like PostgreSQL's ``round``)
go one each to the amounts with the largest remainders (ties: by organization id). The
attributed cents therefore sum *exactly* to the day's rounded total, and each tenant is
less than one cent from its exact amount. Credits (negative amounts) round the same way.

Only production cost is attributed (``analytics_infra_costs.environment``): staging and
untagged spend is reported apart and never reaches a tenant, even when it carries the
tenant's ``customer_id`` tag. Each row also splits its exact cost by the memo's cost
categories (compute, API, data transfer, storage, other): the tenant's direct cost of each
category plus its driver share of the shared cost of that category.

Edge cases, all kept visible as rows with a ``status``:

* a tenant with tagged cost but no usage that day keeps its direct cost and no share
  (``cost_without_usage``);
* a tenant with usage but no tagged cost gets its share of the shared cost only
  (``usage_without_direct_cost``);
* a day whose shared cost no usage can carry (no usage at all, or a driver total of 0)
  leaves that shared cost on one row without organization (``unattributed``), still
  counted in the day's total: it is never spread arbitrarily nor dropped.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, localcontext

import psycopg

from analytics_pipeline.costs.infra_costs import CostCategory
from analytics_pipeline.money import largest_remainder
from analytics_pipeline.money import round_half_up as round_cents
from analytics_pipeline.warehouse.sql import fetch_rows, load_sql

CATEGORIES = tuple(c.value for c in CostCategory)
#: Precision of the exact shares (driver weights can be large integers).
_EXACT_PRECISION = 50
_SHARE_QUANTUM = Decimal("1e-12")


class AllocationDriver(enum.StrEnum):
    """The usage measure that splits shared cost (``ANALYTICS_COST_ALLOCATION_DRIVER``)."""

    TOKENS = "tokens"  # tokens_total of the day's daily rollups
    REQUESTS = "requests"  # request_count of the day's daily rollups
    DURATION = "duration"  # the sum of duration_ms of the day's raw events

    @classmethod
    def parse(cls, text: str) -> AllocationDriver:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise ValueError(f"unknown cost allocation driver {text!r}; expected one of "
                             f"{', '.join(d.value for d in cls)} (ANALYTICS_COST_ALLOCATION_DRIVER)") from None


class AttributionStatus(enum.StrEnum):
    ATTRIBUTED = "attributed"  # tagged cost and usage
    COST_WITHOUT_USAGE = "cost_without_usage"
    USAGE_WITHOUT_DIRECT_COST = "usage_without_direct_cost"
    UNATTRIBUTED = "unattributed"  # shared cost of a day without driver usage (organization_id None)


def allocate_proportionally(total: Decimal, weights: Mapping[Hashable, Decimal]) -> dict[Hashable, Decimal]:
    """``total`` (whole cents) split in proportion to non-negative ``weights``, in cents, summing exactly."""
    weight_total = sum(weights.values(), Decimal(0))
    if weight_total <= 0 or any(w < 0 for w in weights.values()):
        raise ValueError("weights must be non-negative with a positive sum")
    with localcontext() as ctx:
        ctx.prec = _EXACT_PRECISION
        exact = {key: total * weight / weight_total for key, weight in weights.items()}
    return largest_remainder(exact, total)


@dataclass(frozen=True)
class TenantUsage:
    """A tenant's usage on the day: requests (is there usage at all) and the driver's value."""

    request_count: int
    driver_value: Decimal


@dataclass(frozen=True)
class TenantAttribution:
    organization_id: str | None  # None: shared cost left unattributed
    direct_cost: Decimal  # tagged cost, exact
    shared_cost_exact: Decimal  # the proportional share of shared cost, exact
    attributed_cost: Decimal  # direct + shared, in cents (largest remainder)
    driver_value: Decimal
    driver_share: Decimal  # driver_value / the day's driver total (0..1)
    request_count: int
    status: AttributionStatus
    category_costs: dict[str, Decimal] = field(default_factory=dict)  # exact, by CostCategory value

    @property
    def exact_cost(self) -> Decimal:
        return self.direct_cost + self.shared_cost_exact


@dataclass(frozen=True)
class DayAttribution:
    rows: list[TenantAttribution]
    direct_total: Decimal
    shared_total: Decimal
    total_exact: Decimal
    total: Decimal  # round_cents(total_exact) == sum of attributed_cost
    unattributed: Decimal  # the shared cost no usage carried, exact


def _categories(amounts: Mapping[str, Decimal] | None, total: Decimal) -> dict[str, Decimal]:
    """Every category's amount; without a breakdown the whole total is ``other``."""
    if amounts is None:
        amounts = {CostCategory.OTHER.value: total} if total else {}
    return {category: amounts.get(category, Decimal(0)) for category in CATEGORIES}


def attribute_day(direct_costs: Mapping[str, Decimal], shared_cost: Decimal,
                  usage: Mapping[str, TenantUsage], *,
                  direct_by_category: Mapping[str, Mapping[str, Decimal]] | None = None,
                  shared_by_category: Mapping[str, Decimal] | None = None) -> DayAttribution:
    """Attribute one day's (production) infrastructure cost to tenants (see the module docstring).

    ``direct_by_category`` (per tenant) and ``shared_by_category`` split ``direct_costs`` and
    ``shared_cost`` by cost category; without them every amount is ``other``."""
    driver_total = sum((u.driver_value for u in usage.values()), Decimal(0))
    if any(u.driver_value < 0 for u in usage.values()):
        raise ValueError("usage driver values must be non-negative")
    tenants = sorted(set(direct_costs) | set(usage))
    exact_share: dict[str | None, Decimal] = {}
    with localcontext() as ctx:
        ctx.prec = _EXACT_PRECISION
        for tenant in tenants:
            driver = usage[tenant].driver_value if tenant in usage else Decimal(0)
            exact_share[tenant] = shared_cost * driver / driver_total if driver_total > 0 else Decimal(0)
    unattributed = shared_cost if driver_total <= 0 else Decimal(0)

    exact: dict[str | None, Decimal] = {t: direct_costs.get(t, Decimal(0)) + exact_share[t] for t in tenants}
    if unattributed:
        exact[None] = unattributed
    direct_total = sum(direct_costs.values(), Decimal(0))
    total_exact = direct_total + shared_cost
    total = round_cents(total_exact)
    attributed = largest_remainder(exact, total) if exact else {}

    shared_categories = _categories(shared_by_category, shared_cost)
    rows = []
    for tenant in tenants:
        direct_categories = _categories((direct_by_category or {}).get(tenant) if direct_by_category is not None
                                        else None, direct_costs.get(tenant, Decimal(0)))
        with localcontext() as ctx:
            ctx.prec = _EXACT_PRECISION
            driver_value = usage[tenant].driver_value if tenant in usage else Decimal(0)
            category_costs = {
                category: direct_categories[category]
                + (shared_categories[category] * driver_value / driver_total if driver_total > 0 else Decimal(0))
                for category in CATEGORIES}
        tenant_usage = usage.get(tenant)
        has_usage = tenant_usage is not None and tenant_usage.request_count > 0
        has_cost = tenant in direct_costs
        status = (AttributionStatus.ATTRIBUTED if has_cost and has_usage
                  else AttributionStatus.COST_WITHOUT_USAGE if has_cost
                  else AttributionStatus.USAGE_WITHOUT_DIRECT_COST)
        driver = tenant_usage.driver_value if tenant_usage else Decimal(0)
        rows.append(TenantAttribution(
            organization_id=tenant,
            direct_cost=direct_costs.get(tenant, Decimal(0)),
            shared_cost_exact=exact_share[tenant],
            attributed_cost=attributed[tenant],
            driver_value=driver,
            driver_share=(driver / driver_total).quantize(_SHARE_QUANTUM) if driver_total > 0 else Decimal(0),
            request_count=tenant_usage.request_count if tenant_usage else 0,
            status=status,
            category_costs=category_costs,
        ))
    if unattributed:
        rows.append(TenantAttribution(None, Decimal(0), unattributed, attributed[None], Decimal(0), Decimal(0), 0,
                                      AttributionStatus.UNATTRIBUTED, shared_categories))
    return DayAttribution(rows=rows, direct_total=direct_total, shared_total=shared_cost, total_exact=total_exact,
                          total=total, unattributed=unattributed)


# --------------------------------------------------------------------------
# The warehouse side: inputs from analytics_infra_costs and the usage tables,
# results in analytics_tenant_cost_attribution.
# --------------------------------------------------------------------------

_DRIVER_SQL = {
    AllocationDriver.TOKENS: "costs/usage_driver_tokens",
    AllocationDriver.REQUESTS: "costs/usage_driver_requests",
    AllocationDriver.DURATION: "costs/usage_driver_duration",
}


@dataclass
class DayInputs:
    direct_costs: dict[str, Decimal]
    shared_cost: Decimal
    usage: dict[str, TenantUsage]
    currency: str | None
    direct_by_category: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    shared_by_category: dict[str, Decimal] = field(default_factory=dict)


def load_day_inputs(conn: psycopg.Connection, start: datetime, end: datetime,
                    driver: AllocationDriver) -> dict[date, DayInputs]:
    """The production infrastructure cost (by tenant and category) and the driver usage of each
    day in ``[start, end)`` that has either."""
    params = {"range_start": start, "range_end": end}
    days: dict[date, DayInputs] = {}

    def day_inputs(day: date) -> DayInputs:
        return days.setdefault(day, DayInputs({}, Decimal(0), {}, None))

    for day, organization_id, category, amount, currencies in conn.execute(
            load_sql("costs/infra_costs_by_tenant"), params):
        if len(currencies) > 1:
            raise ValueError(f"{day}: infrastructure costs in several currencies ({', '.join(currencies)}); "
                             "they cannot be attributed as one total")
        inputs = day_inputs(day)
        if inputs.currency not in (None, currencies[0]):
            raise ValueError(f"{day}: infrastructure costs in both {inputs.currency} and {currencies[0]}")
        inputs.currency = currencies[0]
        if organization_id is None:
            inputs.shared_cost += amount
            inputs.shared_by_category[category] = inputs.shared_by_category.get(category, Decimal(0)) + amount
        else:
            inputs.direct_costs[organization_id] = inputs.direct_costs.get(organization_id, Decimal(0)) + amount
            by_category = inputs.direct_by_category.setdefault(organization_id, {})
            by_category[category] = by_category.get(category, Decimal(0)) + amount
    for day, organization_id, request_count, driver_value in conn.execute(load_sql(_DRIVER_SQL[driver]), params):
        day_inputs(day).usage[organization_id] = TenantUsage(int(request_count), Decimal(driver_value))
    return days


@dataclass(frozen=True)
class AttributionSummary:
    """What an attribution run wrote over its window."""

    days: list[date]
    rows: int
    tenants: int
    total: Decimal
    direct_total: Decimal
    shared_total: Decimal
    unattributed_total: Decimal
    unattributed_days: list[date]
    days_without_cost: list[date]
    cost_without_usage: dict[str, list[date]]  # tenant -> days
    usage_without_direct_cost: dict[str, list[date]]
    attributed_by_tenant: dict[str, Decimal]
    category_totals: dict[str, Decimal] = field(default_factory=dict)  # exact, over the window
    #: environment -> (cost, of which tagged with a tenant, tenants so tagged): never attributed
    not_attributed: dict[str, tuple[Decimal, Decimal, int]] = field(default_factory=dict)


def replace_cost_attribution(conn: psycopg.Connection, start: datetime, end: datetime, driver: AllocationDriver,
                             *, run_id: str | None = None) -> AttributionSummary:
    """Attribute every day of ``[start, end)`` and replace its rows in one transaction."""
    inputs_by_day = load_day_inputs(conn, start, end, driver)
    records: list[dict] = []
    summary_days: list[date] = []
    totals = {"total": Decimal(0), "direct": Decimal(0), "shared": Decimal(0), "unattributed": Decimal(0)}
    unattributed_days: list[date] = []
    days_without_cost: list[date] = []
    cost_without_usage: dict[str, list[date]] = {}
    usage_without_cost: dict[str, list[date]] = {}
    by_tenant: dict[str, Decimal] = {}
    category_totals = {category: Decimal(0) for category in CATEGORIES}
    for day in sorted(inputs_by_day):
        inputs = inputs_by_day[day]
        result = attribute_day(inputs.direct_costs, inputs.shared_cost, inputs.usage,
                               direct_by_category=inputs.direct_by_category,
                               shared_by_category=inputs.shared_by_category)
        summary_days.append(day)
        if inputs.currency is None:
            days_without_cost.append(day)
        totals["total"] += result.total
        totals["direct"] += result.direct_total
        totals["shared"] += result.shared_total
        totals["unattributed"] += result.unattributed
        if result.unattributed:
            unattributed_days.append(day)
        for row in result.rows:
            if row.status is AttributionStatus.COST_WITHOUT_USAGE:
                cost_without_usage.setdefault(row.organization_id, []).append(day)
            elif row.status is AttributionStatus.USAGE_WITHOUT_DIRECT_COST:
                usage_without_cost.setdefault(row.organization_id, []).append(day)
            if row.organization_id is not None:
                by_tenant[row.organization_id] = by_tenant.get(row.organization_id, Decimal(0)) + row.attributed_cost
            records.append({
                "usage_date": day, "organization_id": row.organization_id, "direct_cost": row.direct_cost,
                "shared_cost_exact": row.shared_cost_exact, "attributed_cost": row.attributed_cost,
                "driver": driver.value, "driver_value": row.driver_value, "driver_share": row.driver_share,
                "request_count": row.request_count, "status": row.status.value,
                "currency": inputs.currency or "USD", "run_id": run_id,
                **{f"{category}_cost": row.category_costs.get(category, Decimal(0)) for category in CATEGORIES},
            })
            for category in CATEGORIES:
                category_totals[category] += row.category_costs.get(category, Decimal(0))
    not_attributed = {environment: (amount, tagged, tenants) for environment, amount, tagged, tenants in
                      conn.execute(load_sql("costs/non_production_costs"), {"range_start": start, "range_end": end})}
    with conn.transaction():
        conn.execute(load_sql("costs/delete_cost_attribution"), {"range_start": start, "range_end": end})
        with conn.cursor() as cursor:
            cursor.executemany(load_sql("costs/insert_cost_attribution"), records)
    return AttributionSummary(
        days=summary_days, rows=len(records), tenants=len(by_tenant), total=totals["total"],
        direct_total=totals["direct"], shared_total=totals["shared"], unattributed_total=totals["unattributed"],
        unattributed_days=unattributed_days, days_without_cost=days_without_cost,
        cost_without_usage=cost_without_usage, usage_without_direct_cost=usage_without_cost,
        attributed_by_tenant=by_tenant, category_totals=category_totals, not_attributed=not_attributed)


@dataclass(frozen=True)
class ReconciliationRow:
    usage_date: date
    infra_total: Decimal  # round(sum of analytics_infra_costs.amount, 2)
    attributed_total: Decimal

    @property
    def difference(self) -> Decimal:
        return self.attributed_total - self.infra_total


def reconcile_with_infra_costs(conn: psycopg.Connection, start: datetime,
                               end: datetime) -> list[ReconciliationRow]:
    """Per day of ``[start, end)`` with cost or attribution: the infra total to the cent and the attributed total."""
    return fetch_rows(conn, "costs/attribution_vs_infra_costs", {"range_start": start, "range_end": end},
                      ReconciliationRow)

