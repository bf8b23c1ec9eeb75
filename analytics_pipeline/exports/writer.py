"""The one way an export is made: render the CSV, reconcile its totals, and only then write
the CSV and its manifest. Both the monthly exports and the ad hoc export jobs write through
:func:`write_export`, so a file finance can download has always reconciled first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from analytics_pipeline.exports.reconciliation import Reconciliation, reconcile
from analytics_pipeline.exports.usage_csv import (
    ExportGranularity,
    ExportRow,
    ExportTotals,
    build_manifest,
    manifest_bytes,
    monthly_export_keys,
    render_csv,
)
from analytics_pipeline.storage.object_store import ObjectStore


@dataclass(frozen=True)
class ExportTarget:
    """What one export covers, and the keys its CSV and manifest are written to."""

    organization_id: str
    start: datetime
    end: datetime
    granularity: ExportGranularity
    by_model: bool
    csv_key: str
    manifest_key: str


@dataclass(frozen=True)
class WrittenExport:
    """An export that reconciled and was written."""

    target: ExportTarget
    totals: ExportTotals
    checksum: str  # sha256:<hex> of the CSV bytes
    reconciliation: Reconciliation


class ExportDoesNotReconcile(Exception):
    """The CSV's totals differ from what they must be beyond the tolerance: nothing was written."""

    def __init__(self, target: ExportTarget, reconciliation: Reconciliation) -> None:
        self.target, self.reconciliation = target, reconciliation
        differences = ", ".join(f"{column} off by {difference}"
                                for column, difference in reconciliation.differences.items() if difference)
        super().__init__(f"the export of {target.organization_id} for {target.start:%Y-%m-%d %H:%M} to "
                         f"{target.end:%Y-%m-%d %H:%M} UTC does not reconcile with the rollups ({differences}); "
                         "nothing was written")


def write_export(store: ObjectStore, target: ExportTarget, rows: Iterable[ExportRow], expected: ExportTotals, *,
                 generated_at: datetime, sources: list[dict]) -> WrittenExport:
    """Render ``rows``, reconcile their totals with ``expected`` (the contract's 1%), then write
    the CSV and its manifest under the target's keys. Raises :class:`ExportDoesNotReconcile`,
    writing nothing, when they differ."""
    csv_bytes, totals = render_csv(rows)
    reconciliation = reconcile(totals, expected)
    if not reconciliation.passed:
        raise ExportDoesNotReconcile(target, reconciliation)
    manifest = build_manifest(
        csv_bytes=csv_bytes, totals=totals, organization_id=target.organization_id, range_start=target.start,
        range_end=target.end, granularity=target.granularity, by_model=target.by_model, generated_at=generated_at,
        sources=sources)
    store.write(target.csv_key, csv_bytes, content_type="text/csv")
    store.write(target.manifest_key, manifest_bytes(manifest), content_type="application/json")
    return WrittenExport(target, totals, manifest["checksum"], reconciliation)


def monthly_export_target(month_start: datetime, month_end: datetime, organization_id: str) -> ExportTarget:
    """An organization's monthly finance export: daily buckets, per model."""
    csv_key, manifest_key = monthly_export_keys(month_start, organization_id)
    return ExportTarget(organization_id=organization_id, start=month_start, end=month_end,
                        granularity=ExportGranularity.DAILY, by_model=True, csv_key=csv_key, manifest_key=manifest_key)
