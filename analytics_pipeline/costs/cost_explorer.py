"""AWS Cost Explorer ``GetCostAndUsage``: daily cost per tenant tag and service, as Decimal rows.

One request per window, ``DAILY`` granularity, grouped by the tenant tag and by ``SERVICE``,
every page followed through ``NextPageToken``. Cost Explorer names a tag group
``<tag key>$<value>``; an empty value (``customer_id$``) is cost without the tag, kept as
shared cost. Amounts are parsed from their strings into ``Decimal``, never through float,
and the day's ``Estimated`` flag is kept (Cost Explorer revises recent days).

The client is any boto3 ``ce`` client; building it (endpoint, region, retries) is the
caller's business.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from analytics_pipeline.costs.infra_costs import DEFAULT_TENANT_TAG, InfraCost, InfraCostError, aggregate_costs

DEFAULT_METRIC = "UnblendedCost"
#: The cost metrics GetCostAndUsage accepts (usage quantities are not money and are refused).
COST_METRICS = ("UnblendedCost", "AmortizedCost", "BlendedCost", "NetUnblendedCost", "NetAmortizedCost")
#: A safety stop: a day range of tenants x services never needs this many pages.
MAX_PAGES = 10_000


class CostExplorerResponseError(InfraCostError):
    """A GetCostAndUsage response that does not have the shape requested."""


def build_request(start: date, end: date, *, metric: str = DEFAULT_METRIC,
                  tag_key: str = DEFAULT_TENANT_TAG) -> dict[str, Any]:
    """The GetCostAndUsage parameters for the days ``[start, end)`` (Cost Explorer's End is exclusive)."""
    if metric not in COST_METRICS:
        raise ValueError(f"unknown Cost Explorer cost metric {metric!r}; expected one of {', '.join(COST_METRICS)}")
    if end <= start:
        raise ValueError(f"empty time period: {start} .. {end}")
    return {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": [metric],
        "GroupBy": [{"Type": "TAG", "Key": tag_key}, {"Type": "DIMENSION", "Key": "SERVICE"}],
    }


def _amount(text: Any, where: str) -> Decimal:
    try:
        amount = Decimal(str(text))
    except InvalidOperation:
        raise CostExplorerResponseError(f"{where}: amount {text!r} is not a number") from None
    if not amount.is_finite():
        raise CostExplorerResponseError(f"{where}: amount {text!r} is not finite")
    return amount


def parse_page(response: dict[str, Any], *, metric: str = DEFAULT_METRIC,
               tag_key: str = DEFAULT_TENANT_TAG) -> list[InfraCost]:
    """The cost rows of one GetCostAndUsage response (one page), in response order."""
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


def fetch_daily_costs(client, start: date, end: date, *, metric: str = DEFAULT_METRIC,
                      tag_key: str = DEFAULT_TENANT_TAG) -> CostExplorerFetch:
    """The daily cost per tenant and service of ``[start, end)`` from Cost Explorer."""
    request = build_request(start, end, metric=metric, tag_key=tag_key)
    rows: list[InfraCost] = []
    days: set[date] = set()
    pages = 0
    for page in iter_pages(client, request):
        pages += 1
        rows.extend(parse_page(page, metric=metric, tag_key=tag_key))
        days.update(date.fromisoformat(r["TimePeriod"]["Start"][:10]) for r in page.get("ResultsByTime", []))
    outside = sorted({r.usage_date for r in rows if not start <= r.usage_date < end})
    if outside:
        raise CostExplorerResponseError(f"results for days outside {start} .. {end}: {outside[:5]}")
    return CostExplorerFetch(rows=aggregate_costs(rows), pages=pages, groups=len(rows),
                             days_in_response=sorted(days))
