"""Finance CSV exports of usage, with their manifests.

The CSV schema is fixed by the export contract (seed ``002``): exactly these columns, in
this order, a header, UTC ``...Z`` timestamps, costs with 4 decimals, an empty
``model_id`` where a row aggregates across models, and, in per-model exports,
:data:`MODEL_LESS_ID` for the requests that named no model.

Costs follow the project's one rounding rule (:mod:`analytics_pipeline.money`): the file's total cost is
the exact sum rounded half up to 4 decimals, and the rows are rounded by largest remainder so that
they add up to it: summing the CSV gives the manifest's total, the API's ``/usage`` total and the portal's.
"""

from __future__ import annotations

import csv
import enum
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from itertools import groupby

import psycopg
from psycopg import sql

from analytics_pipeline.identity import checked_organization_id
from analytics_pipeline.money import CSV_QUANTUM, format_cost, rounded_rows
from analytics_pipeline.warehouse.sql import compose_sql

EXPORT_COLUMNS = (
    "bucket_start", "organization_id", "model_id", "request_count", "tokens_total", "error_count", "cost_total",
)
#: The model id of requests without a model in per-model exports (mapped in the export SQL).
#: Distinct from the empty value, which the contract reserves for rows aggregated across models;
#: parentheses appear in no model id of the platform.
MODEL_LESS_ID = "(none)"


class ExportGranularity(enum.StrEnum):
    HOURLY = "hourly"
    DAILY = "daily"
    MONTHLY = "monthly"

    @property
    def bucket(self) -> str:
        return {"hourly": "hour", "daily": "day", "monthly": "month"}[self.value]

    @property
    def rollup_table(self) -> str:
        # Hourly exports read hourly rollups; daily and monthly ones re-bucket daily rollups.
        return "analytics_hourly_rollups" if self is ExportGranularity.HOURLY else "analytics_daily_rollups"


@dataclass(frozen=True)
class ExportRow:
    bucket_start: datetime
    organization_id: str
    model_id: str | None
    request_count: int
    tokens_total: int
    error_count: int
    cost_total: Decimal


@dataclass
class ExportTotals:
    row_count: int = 0
    request_count: int = 0
    tokens_total: int = 0
    error_count: int = 0
    cost_total: Decimal = field(default_factory=lambda: Decimal("0.0000"))

    def as_dict(self) -> dict:
        return {"row_count": self.row_count, "request_count": self.request_count, "tokens_total": self.tokens_total,
                "error_count": self.error_count, "cost_total": str(self.cost_total)}


def format_timestamp(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC (format specifiers: faster than strftime, per CSV row and API job)."""
    u = value.astimezone(UTC)
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}Z"


def render_csv(rows: Iterable[ExportRow]) -> tuple[bytes, ExportTotals]:
    """The CSV bytes (LF line endings, RFC 4180 quoting where a field needs it) and the
    totals of its columns as written (the costs by largest remainder, summing to the exact total
    rounded to 4 decimals)."""
    rows = list(rows)
    costs, _ = rounded_rows([row.cost_total for row in rows], CSV_QUANTUM)
    totals = ExportTotals()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for row, rounded in zip(rows, costs, strict=True):
        cost = format_cost(rounded)
        writer.writerow((format_timestamp(row.bucket_start), row.organization_id, row.model_id or "",
                         row.request_count, row.tokens_total, row.error_count, cost))
        totals.row_count += 1
        totals.request_count += row.request_count
        totals.tokens_total += row.tokens_total
        totals.error_count += row.error_count
        totals.cost_total += Decimal(cost)
    return buffer.getvalue().encode("utf-8"), totals


def build_manifest(*, csv_bytes: bytes, totals: ExportTotals, organization_id: str, range_start: datetime,
                   range_end: datetime, granularity: ExportGranularity, by_model: bool, generated_at: datetime,
                   sources: list[dict]) -> dict:
    """The JSON manifest written beside a CSV: checksum, counts, totals, range and lineage."""
    return {
        "checksum": "sha256:" + hashlib.sha256(csv_bytes).hexdigest(),
        "row_count": totals.row_count,
        "totals": totals.as_dict(),
        "organization_id": organization_id,
        "time_range": {"start": format_timestamp(range_start), "end": format_timestamp(range_end)},
        "granularity": granularity.value,
        "by_model": by_model,
        "columns": list(EXPORT_COLUMNS),
        "generated_at": format_timestamp(generated_at),
        "sources": sources,
    }


def manifest_bytes(manifest: dict) -> bytes:
    return json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8") + b"\n"


def query_export_rows(conn: psycopg.Connection, *, granularity: ExportGranularity, range_start: datetime,
                      range_end: datetime, organization_id: str | None, by_model: bool) -> Iterator[ExportRow]:
    """Export rows from the rollups, ordered by organization, bucket, model; streamed."""
    query = compose_sql("exports/usage_export_rows", rollup_table=sql.Identifier(granularity.rollup_table),
                        model_less_id=sql.Literal(MODEL_LESS_ID))
    params = {"bucket": granularity.bucket, "by_model": by_model, "range_start": range_start,
              "range_end": range_end, "organization_id": organization_id}
    # A server-side cursor streams 10,000 organizations; it needs a transaction (a savepoint
    # when the caller already has one).
    with conn.transaction(), conn.cursor(name="usage_export_rows") as cursor:
        cursor.itersize = 10_000
        cursor.execute(query, params)
        for record in cursor:
            yield ExportRow(*record)


def rows_by_organization(rows: Iterable[ExportRow]) -> Iterator[tuple[str, list[ExportRow]]]:
    for organization_id, group in groupby(rows, key=lambda r: r.organization_id):
        yield organization_id, list(group)


def monthly_export_keys(month_start: datetime, organization_id: str) -> tuple[str, str]:
    """(csv key, manifest key) of an organization's monthly export; the id is validated first."""
    org = checked_organization_id(organization_id)
    stem = f"monthly/{month_start:%Y-%m}/{org}/usage_daily_{month_start:%Y-%m}"
    return stem + ".csv", stem + ".manifest.json"
