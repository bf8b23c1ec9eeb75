"""Where a window's infrastructure cost comes from: AWS Cost Explorer or the FOCUS cost exports
(:class:`~analytics_pipeline.costs.infra_costs.CostSource`). Both give the same rows; each says what
it read, so a materialization can show it. The tables a person reads of the rows are here too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from analytics_pipeline.costs.cost_explorer import DEFAULT_METRIC, fetch_daily_costs
from analytics_pipeline.costs.focus import DEFAULT_COST_COLUMN, iter_days, read_focus_costs
from analytics_pipeline.costs.infra_costs import DEFAULT_TENANT_TAG, CostSource, Environment, InfraCost
from analytics_pipeline.money import round_half_up
from analytics_pipeline.storage.object_store import ObjectStore


@dataclass(frozen=True)
class SourcedCosts:
    """A window's cost rows and what the source read to give them."""

    source: CostSource
    rows: list[InfraCost]
    metric: str  # the Cost Explorer metric or the FOCUS cost column
    location: str  # "AWS Cost Explorer", or the URL of the FOCUS exports
    figures: dict[str, Any]  # requests, pages and groups; or objects, lines and charge categories

    @property
    def days_with_data(self) -> list[date]:
        return sorted({row.usage_date for row in self.rows})

    def days_without_data(self, start: date, end: date) -> list[date]:
        """The days of ``[start, end)`` the source returned no cost for."""
        return sorted(set(iter_days(start, end)) - set(self.days_with_data))


def fetch_infra_costs(source: CostSource, start: date, end: date, *, cost_explorer: Callable[[], Any],
                      focus_store: Callable[[], ObjectStore], cost_explorer_metric: str = DEFAULT_METRIC,
                      focus_cost_column: str = DEFAULT_COST_COLUMN,
                      tag_key: str = DEFAULT_TENANT_TAG) -> SourcedCosts:
    """The daily cost rows of ``[start, end)`` from ``source``. ``cost_explorer`` and ``focus_store``
    make the client or the store, only for the source that is read. Raises ``InfraCostError`` for
    bad or missing cost data."""
    if source is CostSource.cost_explorer:
        fetched = fetch_daily_costs(cost_explorer(), start, end, metric=cost_explorer_metric, tag_key=tag_key)
        return SourcedCosts(source, fetched.rows, cost_explorer_metric, "AWS Cost Explorer",
                            {"requests": fetched.requests, "pages": fetched.pages, "groups": fetched.groups})
    store = focus_store()
    focus = read_focus_costs(store, start, end, cost_column=focus_cost_column, tag_key=tag_key)
    stats = focus.stats
    return SourcedCosts(source, focus.rows, focus_cost_column, store.url, {
        "objects_read": len(stats.objects), "lines_read": stats.lines, "lines_in_window": stats.lines_in_window,
        "multi_day_charges": stats.multi_day_lines, "charge_categories": dict(stats.charge_categories)})


def cost_by_environment_and_category(rows: list[InfraCost]) -> list[list[object]]:
    """(environment, category, cost to the cent, attributed to tenants?): only production reaches tenants."""
    cells: dict[tuple[str, str], Decimal] = {}
    for row in rows:
        key = (row.environment.value, row.category.value)
        cells[key] = cells.get(key, Decimal(0)) + row.amount
    return [[environment, category, round_half_up(amount),
             "yes" if environment == Environment.PRODUCTION.value else "no: reported apart"]
            for (environment, category), amount in sorted(cells.items())]


def cost_by_service(rows: list[InfraCost]) -> list[list[object]]:
    """(service, tagged cost, shared cost) to the cent, the costliest service first."""
    by_service: dict[str, list[Decimal]] = {}
    for row in rows:
        tagged_shared = by_service.setdefault(row.service, [Decimal(0), Decimal(0)])
        tagged_shared[0 if row.organization_id else 1] += row.amount
    return [[service, round_half_up(tagged), round_half_up(shared)]
            for service, (tagged, shared) in sorted(by_service.items(), key=lambda kv: -sum(kv[1]))]
