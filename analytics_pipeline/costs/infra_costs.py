"""Daily infrastructure cost rows and their table, ``analytics_infra_costs``.

A row is the cost of one service on one UTC day for one tenant (the ``customer_id`` tag) or,
with ``organization_id`` None, untagged cost shared by everyone. Both sources (Cost
Explorer, FOCUS exports) produce these rows; a day is replaced whole in one transaction.

The tagging strategy (the SRE memo) tags every resource with ``customer_id``,
``environment`` (prod / staging) and ``service`` (api / worker / database); each row keeps
the last two:

* **environment**: ``production`` (tag ``prod`` or ``production``), ``staging`` (``staging``
  or ``stage``), or ``untagged`` (no tag, or any other value). Only production cost is
  attributed to customers; staging and untagged cost are reported apart, never charged to a
  tenant (a staging sandbox tagged with a tenant's id included).
* **cost category** (the memo's "tracked per customer": compute, API calls, data transfer,
  storage, plus ``other``), decided in this order:

  1. the provider's service moves data (FOCUS ``ServiceCategory`` Networking, or a service
     named like one of :data:`DATA_TRANSFER_SERVICES`: VPC and NAT, load balancers, CloudFront,
     AWS Data Transfer): ``data_transfer``, whatever tier it serves;
  2. the ``service`` tag: ``worker`` -> ``compute``, ``api`` -> ``api`` (the tier that proxies
     the AI providers), ``database`` -> ``storage``;
  3. without one of those tags, the provider's service: compute services (EC2, ECS, EKS,
     Lambda; FOCUS Compute) -> ``compute``, storage and databases (S3, RDS, EBS...; FOCUS
     Storage, Databases) -> ``storage``, AI services (Bedrock; FOCUS AI and Machine Learning)
     -> ``api``; anything else (monitoring, support...) -> ``other``.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import psycopg

from analytics_pipeline.warehouse.sql import load_sql

#: The cost allocation tag that names the tenant (the organization id) on AWS resources.
DEFAULT_TENANT_TAG = "customer_id"
#: The other two tags of the tagging strategy.
ENVIRONMENT_TAG = "environment"
SERVICE_TAG = "service"


class Environment(enum.StrEnum):
    """The environment a cost belongs to; only production is attributed to tenants."""

    PRODUCTION = "production"
    STAGING = "staging"
    UNTAGGED = "untagged"  # no environment tag, or a value that is neither of the above


#: Tag values of each environment (compared lowercased, stripped).
ENVIRONMENT_TAG_VALUES: dict[Environment, tuple[str, ...]] = {
    Environment.PRODUCTION: ("prod", "production"),
    Environment.STAGING: ("staging", "stage"),
}
#: The service tag's values (the memo's api / worker / database tiers).
SERVICE_TAG_VALUES = ("api", "worker", "database")


def environment_of(tag_value: str | None) -> Environment:
    """The environment an ``environment`` tag value names (untagged for none or another value)."""
    value = (tag_value or "").strip().lower()
    for environment, values in ENVIRONMENT_TAG_VALUES.items():
        if value in values:
            return environment
    return Environment.UNTAGGED


class CostCategory(enum.StrEnum):
    """The memo's per-customer cost categories (see the module docstring for the mapping)."""

    COMPUTE = "compute"
    API = "api"
    DATA_TRANSFER = "data_transfer"
    STORAGE = "storage"
    OTHER = "other"


#: Provider services that move data (fragments of Cost Explorer's SERVICE / FOCUS ServiceName).
DATA_TRANSFER_SERVICES = ("Data Transfer", "CloudFront", "Virtual Private Cloud", "VPC", "Load Balancing",
                          "Global Accelerator", "Direct Connect", "Transit Gateway")
_SERVICE_TAG_CATEGORY = {"worker": CostCategory.COMPUTE, "api": CostCategory.API, "database": CostCategory.STORAGE}
_PROVIDER_CATEGORY = {  # FOCUS ServiceCategory
    "compute": CostCategory.COMPUTE, "storage": CostCategory.STORAGE, "databases": CostCategory.STORAGE,
    "ai and machine learning": CostCategory.API, "networking": CostCategory.DATA_TRANSFER,
}
_COMPUTE_SERVICES = ("Elastic Compute Cloud", "EC2", "Elastic Container Service", "Elastic Kubernetes Service",
                     "Lambda", "Fargate", "Batch")
_STORAGE_SERVICES = ("Simple Storage Service", "S3", "Relational Database Service", "RDS", "DynamoDB",
                     "Elastic Block Store", "Elastic File System", "ElastiCache", "Aurora", "Backup")
_API_SERVICES = ("Bedrock", "SageMaker", "API Gateway")


def cost_category(service_tag: str | None, service: str, provider_category: str | None = None) -> CostCategory:
    """The cost category of a charge, from its ``service`` tag, its provider service (e.g. Cost
    Explorer's SERVICE) and, when known, its FOCUS ``ServiceCategory``."""
    provider = (provider_category or "").strip().lower()
    if provider == "networking" or any(name in service for name in DATA_TRANSFER_SERVICES):
        return CostCategory.DATA_TRANSFER
    tagged = _SERVICE_TAG_CATEGORY.get((service_tag or "").strip().lower())
    if tagged is not None:
        return tagged
    if provider in _PROVIDER_CATEGORY:
        return _PROVIDER_CATEGORY[provider]
    for names, category in ((_COMPUTE_SERVICES, CostCategory.COMPUTE), (_STORAGE_SERVICES, CostCategory.STORAGE),
                            (_API_SERVICES, CostCategory.API)):
        if any(name in service for name in names):
            return category
    return CostCategory.OTHER


def service_tag_of(tag_value: str | None) -> str | None:
    """The ``service`` tag value as stored: lowercased, None when absent or blank."""
    value = (tag_value or "").strip().lower()
    return value or None


class CostSource(enum.Enum):
    """Where infrastructure cost is read from. Member names are the run-config values."""

    focus = "focus"  # FOCUS cost exports (CSV) in object storage
    cost_explorer = "cost_explorer"  # the AWS Cost Explorer GetCostAndUsage API


class InfraCostError(ValueError):
    """Cost data that cannot be loaded as it is (mixed currencies, malformed amounts...)."""


@dataclass(frozen=True)
class InfraCost:
    """The cost of one service on one day, for one tenant or shared (``organization_id`` None),
    in one environment, with its ``service`` tag and cost category."""

    usage_date: date
    organization_id: str | None
    service: str
    amount: Decimal
    currency: str
    estimated: bool = False  # Cost Explorer's "Estimated": the day may still be revised
    environment: Environment = Environment.PRODUCTION
    service_tag: str | None = None
    category: CostCategory = CostCategory.OTHER

    @property
    def key(self) -> tuple:
        return (self.usage_date, self.organization_id, self.service, self.environment, self.service_tag,
                self.category)

    @property
    def attributable(self) -> bool:
        """Whether the cost may reach a tenant: production only."""
        return self.environment is Environment.PRODUCTION


def aggregate_costs(rows: Iterable[InfraCost]) -> list[InfraCost]:
    """Sum rows with the same (day, tenant, service), in a stable order.

    A day's groups may be split over several Cost Explorer pages, and a FOCUS export holds
    one line per resource and charge; the table keeps one row per key. Amounts of one key
    in different currencies cannot be added and raise :class:`InfraCostError`.
    """
    merged: dict[tuple, InfraCost] = {}
    for row in rows:
        previous = merged.get(row.key)
        if previous is None:
            merged[row.key] = row
            continue
        if previous.currency != row.currency:
            raise InfraCostError(
                f"{row.usage_date} {row.organization_id or '(shared)'} {row.service}: costs in both "
                f"{previous.currency} and {row.currency}; convert them to one currency first")
        merged[row.key] = dataclasses.replace(previous, amount=previous.amount + row.amount,
                                              estimated=previous.estimated or row.estimated)
    return sorted(merged.values(), key=lambda r: (r.usage_date, r.organization_id is None, r.organization_id or "",
                                                  r.service, r.environment, r.service_tag or "", r.category))


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
    by_environment: dict[str, Decimal] = field(default_factory=dict)  # production, staging, untagged
    production_by_category: dict[str, Decimal] = field(default_factory=dict)


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
                 "cost_metric": metric, "run_id": run_id, "environment": r.environment.value,
                 "service_tag": r.service_tag, "cost_category": r.category.value}
                for r in merged])
    by_day: dict[date, Decimal] = {day: Decimal(0) for day in day_list}
    for r in merged:
        by_day[r.usage_date] += r.amount
    tagged = sum((r.amount for r in merged if r.organization_id is not None), Decimal(0))
    shared = sum((r.amount for r in merged if r.organization_id is None), Decimal(0))
    by_environment = {e.value: Decimal(0) for e in Environment}
    by_category = {c.value: Decimal(0) for c in CostCategory}
    for r in merged:
        by_environment[r.environment.value] += r.amount
        if r.attributable:
            by_category[r.category.value] += r.amount
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
        by_environment=by_environment,
        production_by_category=by_category,
    )
