"""Synthetic FOCUS cost exports consistent with the synthetic usage, for the demo and tests.

:func:`generate_focus_costs` writes one gzip CSV per billing period through
``write_object(key, data)``, laid out as AWS Data Exports writes FOCUS exports::

    BILLING_PERIOD=YYYY-MM/synthetic-focus-00001.csv.gz

Costs follow the usage the generator made (``GenerationSummary.totals_by_org``) and its
weekday/weekend traffic shape. Every line carries the memo's tags: ``environment`` (prod /
staging, or none), ``service`` (api / worker / database, or platform for shared
infrastructure) and, for a tenant's resources, ``customer_id``; ``ServiceCategory`` is set as
AWS exports it:

* per tenant, production: compute (EC2 worker nodes, ~1.30 USD per million tokens), API
  calls to the AI providers (Bedrock behind the api tier, per million tokens), data transfer
  (per request), storage (RDS and S3 on the database tier, per request, plus a fixed daily
  base), each with a little daily noise, so tenants on cheap models have thin or negative
  margins;
* shared production infrastructure, without ``customer_id``: the EKS control plane, a NAT
  gateway (hours + traffic-proportional processing), the load balancer, CloudWatch, and a
  monthly support fee whose charge period covers the whole billing period (split over its
  days by the reader);
* staging: a shared staging cluster and a sandbox per large tenant tagged with its
  ``customer_id`` (which must never reach that tenant's bill), and one forgotten instance
  without an ``environment`` tag (untagged spend);
* one decommissioned tenant whose S3 storage is still billed: cost without usage.

With the defaults (20 organizations, 1,000 events per hour) production infrastructure costs
~55 % of revenue. Deterministic: same arguments, same bytes (gzip ``mtime=0``).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from analytics_pipeline.costs.focus import BILLING_PERIOD_PREFIX
from analytics_pipeline.generator.catalog import ORGANIZATION_NAMESPACE

FOCUS_COLUMNS = (
    "BillingAccountId", "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd",
    "ChargeCategory", "ChargeDescription", "BilledCost", "EffectiveCost", "ListCost", "BillingCurrency",
    "ProviderName", "ServiceCategory", "ServiceName", "RegionId", "ResourceId", "Tags",
)
OBJECT_NAME = "synthetic-focus-00001.csv.gz"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
_WEEKDAY = (1.08, 1.08, 1.08, 1.08, 1.08, 0.8, 0.8)  # the usage generator's day-of-week factors
_AMOUNT = Decimal("1e-8")

# Unit costs (USD).
COMPUTE_PER_MILLION_TOKENS = 1.30
AI_PROVIDER_PER_MILLION_TOKENS = 0.20  # model calls proxied by the api tier
DATA_TRANSFER_PER_REQUEST = 0.00008
STORAGE_PER_REQUEST = 0.0005
DATABASE_PER_REQUEST = 0.0003
TENANT_BASE_PER_DAY = 0.60  # each tenant's dedicated queue, secrets, backups
NAT_PER_HOUR = 0.045
NAT_PER_REQUEST = 0.0004  # data processing, proportional to traffic
EKS_CONTROL_PLANE_PER_HOUR = 0.10
LOAD_BALANCER_PER_DAY = 5.40
CLOUDWATCH_PER_DAY = 6.00
SUPPORT_PER_MONTH = 100.00
DECOMMISSIONED_STORAGE_PER_DAY = 0.35
STAGING_CLUSTER_PER_DAY = 9.60
STAGING_SANDBOX_PER_DAY = 1.10  # each of the largest tenants' staging sandboxes
STAGING_SANDBOXES = 3
UNTAGGED_INSTANCE_PER_DAY = 2.30  # launched by hand, never tagged


class UsageTotals(Protocol):
    """What the generator's ``OrgTotals`` provides."""

    request_count: int
    tokens_total: int


@dataclass(frozen=True)
class FocusGenerationSummary:
    objects_written: int
    lines_written: int
    total_cost: Decimal
    tagged_cost: Decimal  # with a customer_id tag, every environment
    shared_cost: Decimal  # without one
    tenants: int
    decommissioned_tenant: str | None
    keys: list[str]
    staging_cost: Decimal = Decimal(0)  # environment staging (tenant sandboxes included)
    untagged_cost: Decimal = Decimal(0)  # no environment tag


def decommissioned_tenant_id(seed: int) -> str:
    """The id of the churned tenant whose storage is still billed (never in the usage)."""
    return str(uuid.uuid5(ORGANIZATION_NAMESPACE, f"org-{seed}-decommissioned"))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _money(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_AMOUNT) if value else Decimal(0)


def generate_focus_costs(
    write_object: Callable[[str, bytes], None],
    *,
    start: date,
    days: int,
    usage_by_org: Mapping[str, UsageTotals],
    seed: int = 7,
    decommissioned_tenant: bool = True,
) -> FocusGenerationSummary:
    """Write FOCUS costs for the days ``[start, start + days)`` matching ``usage_by_org``.

    ``usage_by_org`` is the usage generator's ``summary.totals_by_org`` for the same days
    (each tenant's requests and tokens over the range); each tenant's daily share follows
    the weekday/weekend factors the usage generator uses.
    """
    if isinstance(start, datetime) or not isinstance(start, date):
        raise TypeError("start must be a datetime.date (not a datetime)")
    if days < 1:
        raise ValueError("days must be >= 1")
    rng = random.Random(f"focus-costs-{seed}")
    day_list = [start + timedelta(days=i) for i in range(days)]
    weights = [_WEEKDAY[d.weekday()] for d in day_list]
    weight_total = sum(weights)
    orphan = decommissioned_tenant_id(seed) if decommissioned_tenant else None

    periods: dict[date, list[dict[str, str]]] = {}
    totals = {"tagged": Decimal(0), "shared": Decimal(0), "staging": Decimal(0), "untagged": Decimal(0)}

    def add(day_start: datetime, day_end: datetime, service: str, category: str | None, description: str,
            amount: float, resource: str, tenant: str | None, service_category: str,
            charge_category: str = "Usage", environment: str | None = "prod") -> None:
        cost = _money(amount)
        month = day_start.date().replace(day=1)
        month_end = (month + timedelta(days=32)).replace(day=1)
        tags = {"environment": environment, "service": category, "customer_id": tenant}
        tags = {key: value for key, value in tags.items() if value}
        if environment is None:
            totals["untagged"] += cost
        elif environment != "prod":
            totals["staging"] += cost
        periods.setdefault(month, []).append({
            "BillingAccountId": ACCOUNT_ID, "BillingPeriodStart": _iso(_midnight(month)),
            "BillingPeriodEnd": _iso(_midnight(month_end)), "ChargePeriodStart": _iso(day_start),
            "ChargePeriodEnd": _iso(day_end), "ChargeCategory": charge_category, "ChargeDescription": description,
            "BilledCost": str(cost), "EffectiveCost": str(cost), "ListCost": str(cost), "BillingCurrency": "USD",
            "ProviderName": "AWS", "ServiceCategory": service_category, "ServiceName": service, "RegionId": REGION,
            "ResourceId": resource, "Tags": json.dumps(tags, sort_keys=True, separators=(",", ":")),
        })
        totals["tagged" if tenant else "shared"] += cost

    def noise(spread: float = 0.08) -> float:
        return 1.0 + rng.uniform(-spread, spread)

    tenants = sorted(usage_by_org)
    sandboxes = sorted(tenants, key=lambda t: (-usage_by_org[t].tokens_total, t))[:STAGING_SANDBOXES]
    for day, weight in zip(day_list, weights, strict=True):
        share = weight / weight_total
        begin, end = _midnight(day), _midnight(day) + timedelta(days=1)
        day_requests = 0.0
        for tenant in tenants:
            usage = usage_by_org[tenant]
            tokens = usage.tokens_total * share
            requests = usage.request_count * share
            day_requests += requests
            short = tenant[:8]
            add(begin, end, "Amazon Elastic Compute Cloud", "worker", "EKS worker nodes (tenant pool)",
                tokens / 1e6 * COMPUTE_PER_MILLION_TOKENS * noise(), f"i-{short}-pool", tenant, "Compute")
            add(begin, end, "Amazon Relational Database Service", "database", "Aurora I/O and storage",
                requests * DATABASE_PER_REQUEST * noise(), f"db-{short}", tenant, "Databases")
            add(begin, end, "Amazon Simple Storage Service", "database", "Request and storage charges",
                requests * STORAGE_PER_REQUEST * noise() + TENANT_BASE_PER_DAY * noise(0.02), f"s3-{short}",
                tenant, "Storage")
            add(begin, end, "Amazon Bedrock", "api", "Model invocations proxied by the API",
                tokens / 1e6 * AI_PROVIDER_PER_MILLION_TOKENS * noise(), f"bedrock-{short}", tenant,
                "AI and Machine Learning")
            add(begin, end, "AWS Data Transfer", "api", "Data transfer out to the internet",
                requests * DATA_TRANSFER_PER_REQUEST * noise(), f"dto-{short}", tenant, "Networking")
        if orphan:
            add(begin, end, "Amazon Simple Storage Service", "database", "Storage of a decommissioned tenant",
                DECOMMISSIONED_STORAGE_PER_DAY, f"s3-{orphan[:8]}", orphan, "Storage")
        # Staging and untagged spend: reported, never a tenant's (even when tagged with its id).
        add(begin, end, "Amazon Elastic Compute Cloud", "worker", "EKS staging nodes",
            STAGING_CLUSTER_PER_DAY * noise(0.05), "i-staging-pool", None, "Compute", environment="staging")
        for tenant in sandboxes:
            add(begin, end, "Amazon Elastic Compute Cloud", "api", "Tenant staging sandbox",
                STAGING_SANDBOX_PER_DAY * noise(0.05), f"i-{tenant[:8]}-staging", tenant, "Compute",
                environment="staging")
        add(begin, end, "Amazon Elastic Compute Cloud", None, "Instance launched by hand",
            UNTAGGED_INSTANCE_PER_DAY, "i-0untagged", None, "Compute", environment=None)
        add(begin, end, "Amazon Elastic Kubernetes Service", "platform", "EKS control plane",
            EKS_CONTROL_PLANE_PER_HOUR * 24, "eks-prod", None, "Compute")
        add(begin, end, "Amazon Virtual Private Cloud", "platform", "NAT gateway hours and data processing",
            NAT_PER_HOUR * 24 + day_requests * NAT_PER_REQUEST * noise(), "nat-prod-a", None, "Networking")
        add(begin, end, "Elastic Load Balancing", "platform", "Application load balancer",
            LOAD_BALANCER_PER_DAY * noise(0.05), "alb-prod", None, "Networking")
        add(begin, end, "Amazon CloudWatch", "platform", "Logs ingestion and metrics",
            CLOUDWATCH_PER_DAY * noise(), "cloudwatch", None, "Management and Governance")

    # The support fee: one charge per billing period, over the generated days of that period.
    for month in sorted(periods):
        covered = [d for d in day_list if d.replace(day=1) == month]
        fee = SUPPORT_PER_MONTH * len(covered) / ((month + timedelta(days=32)).replace(day=1) - month).days
        add(_midnight(covered[0]), _midnight(covered[-1]) + timedelta(days=1), "AWS Support (Business)", "platform",
            "Business support plan", fee, "support", None, "Other", charge_category="Purchase")

    keys = []
    lines = 0
    for month, rows in sorted(periods.items()):
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=FOCUS_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        key = BILLING_PERIOD_PREFIX.format(month=month) + OBJECT_NAME
        write_object(key, gzip.compress(buffer.getvalue().encode(), mtime=0))
        keys.append(key)
        lines += len(rows)
    return FocusGenerationSummary(
        objects_written=len(keys), lines_written=lines, total_cost=totals["tagged"] + totals["shared"],
        tagged_cost=totals["tagged"], shared_cost=totals["shared"], tenants=len(tenants) + (1 if orphan else 0),
        decommissioned_tenant=orphan, keys=keys, staging_cost=totals["staging"], untagged_cost=totals["untagged"])
