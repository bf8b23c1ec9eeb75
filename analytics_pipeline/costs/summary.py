"""A month's cost lines (``sql/costs/demo_cost_summary.sql``): infrastructure cost, all of it and
production's (the rest, staging and untagged spend, is never attributed), what was attributed to
tenants, and the margin. Pure domain code, no Dagster."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import psycopg

from analytics_pipeline.warehouse.sql import fetch_row


@dataclass(frozen=True)
class CostSummary:
    """Each figure is None when the window has no row of it."""

    infrastructure: Decimal | None
    production: Decimal | None
    attributed: Decimal | None
    margin: Decimal | None


def cost_summary(conn: psycopg.Connection, start: datetime, end: datetime) -> CostSummary:
    """The cost lines of the days in ``[start, end)`` (the margin of the complete months starting in it)."""
    return fetch_row(conn, "costs/demo_cost_summary", {"range_start": start, "range_end": end}, CostSummary)
