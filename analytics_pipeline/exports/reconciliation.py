"""Reconciliation of an export: the contract's 1% tolerance, and what an export's totals must
be, read along a path independent of the one the export was made from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import psycopg
from psycopg import sql

from analytics_pipeline.exports.usage_csv import ExportGranularity, ExportTotals
from analytics_pipeline.warehouse.sql import compose_sql

RECONCILIATION_TOLERANCE = Decimal("0.01")  # 1%, the export contract
HALF_OF_LAST_DECIMAL = Decimal("0.00005")  # the most one row's cost moves when rounded to 4 decimals


def _priced_events() -> sql.Composed:
    # The rollup checks' own per-event pricing fragment, reused as it is.
    return compose_sql("rollups/priced_events", price_periods=compose_sql("rollups/price_periods"))


def expected_totals_by_organization(conn: psycopg.Connection, granularity: ExportGranularity, start: datetime,
                                    end: datetime, organization_id: str | None = None) -> dict[str, ExportTotals]:
    """What exports of ``granularity`` must total per organization for a range, read along a path
    independent of the one the export is made from: daily and monthly exports (made from the
    daily rollups) against the hourly rollups; hourly exports (made from the hourly rollups)
    against the raw events, each priced on its own."""
    if granularity is ExportGranularity.HOURLY:
        query = compose_sql("exports/raw_event_totals_for_export", priced_events=_priced_events())
    else:
        query = compose_sql("exports/rollup_totals_for_export",
                            rollup_table=sql.Identifier(ExportGranularity.HOURLY.rollup_table))
    rows = conn.execute(query, {"range_start": start, "range_end": end, "organization_id": organization_id})
    return {org: ExportTotals(0, int(requests), int(tokens), int(errors), Decimal(cost))
            for org, requests, tokens, errors, cost in rows}


def expected_totals_for(conn: psycopg.Connection, granularity: ExportGranularity, start: datetime, end: datetime,
                        organization_id: str) -> ExportTotals:
    """What one organization's export must total (zeros when it had no usage)."""
    totals = expected_totals_by_organization(conn, granularity, start, end, organization_id)
    return totals.get(organization_id, ExportTotals(0, 0, 0, 0, Decimal(0)))


@dataclass(frozen=True)
class Reconciliation:
    """How a CSV's column totals compare with the rollups for the same organization and range."""

    differences: dict[str, Decimal]  # absolute, per column
    relative: dict[str, Decimal]  # difference / rollup total (the difference itself when the total is 0)
    rounding_allowance: Decimal  # what rounding each row's cost to 4 decimals can account for

    @property
    def passed(self) -> bool:
        """Within 1% per column; a cost difference that row rounding explains always passes."""
        for column, relative in self.relative.items():
            if relative <= RECONCILIATION_TOLERANCE:
                continue
            if column == "cost_total" and self.differences[column] <= self.rounding_allowance:
                continue
            return False
        return True


def reconcile(csv_totals: ExportTotals, rollup_totals: ExportTotals) -> Reconciliation:
    """Compare a CSV's totals (as written) with the rollups' totals."""
    differences, relative = {}, {}
    for column in ("request_count", "tokens_total", "error_count", "cost_total"):
        exported, expected = Decimal(getattr(csv_totals, column)), Decimal(getattr(rollup_totals, column))
        differences[column] = abs(exported - expected)
        relative[column] = differences[column] / expected if expected else differences[column]
    return Reconciliation(differences, relative, HALF_OF_LAST_DECIMAL * csv_totals.row_count)
