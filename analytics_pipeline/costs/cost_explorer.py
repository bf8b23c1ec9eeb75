"""AWS Cost Explorer ``GetCostAndUsage``: daily cost per tenant tag and service, as Decimal rows.

``DAILY`` granularity, grouped by the tenant tag and by ``SERVICE``, every page followed
through ``NextPageToken``. Cost Explorer names a tag group ``<tag key>$<value>``; an empty
value (``customer_id$``) is cost without the tag, kept as shared cost. Amounts are parsed
from their strings into ``Decimal``, never through float, and the day's ``Estimated`` flag
is kept (Cost Explorer revises recent days).

Cost Explorer groups by at most two keys, and the tagging strategy has three tags: the
``environment`` and ``service`` tags are therefore *filters*, one request per
(environment, service) pair (:data:`REQUEST_SLICES`: production / staging / untagged x
api / worker / database / untagged, 12 requests a window, ~0.12 USD at 0.01 USD a
request), each grouped by the tenant tag and SERVICE, so every row knows its environment,
its service tag and (with SERVICE) its cost category.

The client is any boto3 ``ce`` client; building it (endpoint, region, retries) is the
caller's business.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from analytics_pipeline.costs.infra_costs import (
    DEFAULT_TENANT_TAG,
    ENVIRONMENT_TAG,
    ENVIRONMENT_TAG_VALUES,
    SERVICE_TAG,
    SERVICE_TAG_VALUES,
    Environment,
    InfraCost,
    InfraCostError,
    aggregate_costs,
    cost_category,
)

DEFAULT_METRIC = "UnblendedCost"
#: The cost metrics GetCostAndUsage accepts (usage quantities are not money and are refused).
COST_METRICS = ("UnblendedCost", "AmortizedCost", "BlendedCost", "NetUnblendedCost", "NetAmortizedCost")
#: A safety stop: a day range of tenants x services never needs this many pages.
MAX_PAGES = 10_000


class CostExplorerResponseError(InfraCostError):
    """A GetCostAndUsage response that does not have the shape requested."""


#: The (environment, service tag) pairs, one request each, in request order; a service tag None is
#: cost without one of SERVICE_TAG_VALUES.
REQUEST_SLICES: tuple[tuple[Environment, str | None], ...] = tuple(
    (environment, service) for environment in Environment for service in (*SERVICE_TAG_VALUES, None))


def _tag_in(key: str, values: tuple[str, ...]) -> dict[str, Any]:
    return {"Tags": {"Key": key, "Values": list(values), "MatchOptions": ["EQUALS", "CASE_INSENSITIVE"]}}


def slice_filter(environment: Environment, service_tag: str | None) -> dict[str, Any]:
    """The Filter expression of one (environment, service tag) request."""
    known_environments = tuple(v for values in ENVIRONMENT_TAG_VALUES.values() for v in values)
    by_environment = (_tag_in(ENVIRONMENT_TAG, ENVIRONMENT_TAG_VALUES[environment])
                      if environment is not Environment.UNTAGGED
                      else {"Not": _tag_in(ENVIRONMENT_TAG, known_environments)})  # absent, or another value
    by_service = (_tag_in(SERVICE_TAG, (service_tag,)) if service_tag is not None
                  else {"Not": _tag_in(SERVICE_TAG, SERVICE_TAG_VALUES)})
    return {"And": [by_environment, by_service]}


def build_request(start: date, end: date, *, metric: str = DEFAULT_METRIC, tag_key: str = DEFAULT_TENANT_TAG,
                  environment: Environment | None = None, service_tag: str | None = None) -> dict[str, Any]:
    """The GetCostAndUsage parameters for the days ``[start, end)`` (Cost Explorer's End is exclusive),
    filtered to one (environment, service tag) slice when ``environment`` is given."""
    if metric not in COST_METRICS:
        raise ValueError(f"unknown Cost Explorer cost metric {metric!r}; expected one of {', '.join(COST_METRICS)}")
    if end <= start:
        raise ValueError(f"empty time period: {start} .. {end}")
    request: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": [metric],
        "GroupBy": [{"Type": "TAG", "Key": tag_key}, {"Type": "DIMENSION", "Key": "SERVICE"}],
    }
    if environment is not None:
        request["Filter"] = slice_filter(environment, service_tag)
    return request


def _amount(text: Any, where: str) -> Decimal:
    try:
        amount = Decimal(str(text))
    except InvalidOperation:
        raise CostExplorerResponseError(f"{where}: amount {text!r} is not a number") from None
    if not amount.is_finite():
        raise CostExplorerResponseError(f"{where}: amount {text!r} is not finite")
    return amount


def parse_page(response: dict[str, Any], *, metric: str = DEFAULT_METRIC, tag_key: str = DEFAULT_TENANT_TAG,
               environment: Environment = Environment.PRODUCTION, service_tag: str | None = None) -> list[InfraCost]:
    """The cost rows of one GetCostAndUsage response (one page) of the (environment, service tag)
    slice it was filtered to, in response order."""
    tag_prefix = f"{tag_key}$"
    rows: list[InfraCost] = []
    for result in response.get("ResultsByTime", []):
        try:
            day = date.fromisoformat(result["TimePeriod"]["Start"][:10])
        except (KeyError, TypeError, ValueError):
            raise CostExplorerResponseError(f"a result without a valid TimePeriod.Start: {result!r:.200}") from None
        estimated = bool(result.get("Estimated", False))
        for group in result.get("Groups", []):
            keys = group.get("Keys", [])
            tag_keys = [k for k in keys if k.startswith(tag_prefix)]
            others = [k for k in keys if not k.startswith(tag_prefix)]
            if len(keys) != 2 or len(tag_keys) != 1:
                raise CostExplorerResponseError(
                    f"{day}: group keys {keys!r} are not ['{tag_prefix}<value>', '<service>']; "
                    "was the request grouped by the tenant tag and SERVICE?")
            value = tag_keys[0][len(tag_prefix):]
            try:
                measure = group["Metrics"][metric]
            except KeyError:
                raise CostExplorerResponseError(f"{day} {keys!r}: no {metric} in the group's metrics") from None
            where = f"{day} {keys!r}"
            rows.append(InfraCost(
                usage_date=day,
                organization_id=value or None,  # "customer_id$": untagged, shared cost
                service=others[0],
                amount=_amount(measure.get("Amount"), where),
                currency=measure.get("Unit") or "USD",
                estimated=estimated,
                environment=environment,
                service_tag=service_tag,
                category=cost_category(service_tag, others[0]),
            ))
    return rows


def iter_pages(client, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every page of GetCostAndUsage for ``request``, following ``NextPageToken``."""
    token: str | None = None
    for _ in range(MAX_PAGES):
        response = client.get_cost_and_usage(**request, **({"NextPageToken": token} if token else {}))
        yield response
        token = response.get("NextPageToken")
        if not token:
            return
    raise CostExplorerResponseError(f"more than {MAX_PAGES} pages: is the API returning the same token again?")


@dataclass(frozen=True)
class CostExplorerFetch:
    """The window's cost rows (aggregated per day, tenant and service) and how they were fetched."""

    rows: list[InfraCost]
    pages: int
    groups: int  # groups read over all pages, before aggregation
    days_in_response: list[date]  # every day with a ResultsByTime entry, empty or not
    requests: int = 1  # one per (environment, service tag) slice


def fetch_daily_costs(client, start: date, end: date, *, metric: str = DEFAULT_METRIC,
                      tag_key: str = DEFAULT_TENANT_TAG) -> CostExplorerFetch:
    """The daily cost per tenant, service, environment and service tag of ``[start, end)`` from
    Cost Explorer: one paged request per slice of :data:`REQUEST_SLICES`."""
    rows: list[InfraCost] = []
    days: set[date] = set()
    pages = 0
    for environment, service_tag in REQUEST_SLICES:
        request = build_request(start, end, metric=metric, tag_key=tag_key, environment=environment,
                                service_tag=service_tag)
        for page in iter_pages(client, request):
            pages += 1
            rows.extend(parse_page(page, metric=metric, tag_key=tag_key, environment=environment,
                                   service_tag=service_tag))
            days.update(date.fromisoformat(r["TimePeriod"]["Start"][:10]) for r in page.get("ResultsByTime", []))
    outside = sorted({r.usage_date for r in rows if not start <= r.usage_date < end})
    if outside:
        raise CostExplorerResponseError(f"results for days outside {start} .. {end}: {outside[:5]}")
    return CostExplorerFetch(rows=aggregate_costs(rows), pages=pages, groups=len(rows),
                             days_in_response=sorted(days), requests=len(REQUEST_SLICES))
