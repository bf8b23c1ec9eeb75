"""``retention_job``: the retention periods applied, one op per action, each reporting in the UI.

An op job, not assets: retention produces no data asset, it removes data from several. The
run config is two fields for the whole job, ``dry_run`` (compute and report every action,
change nothing) and ``as_of`` (the moment the periods count back from; default: the
schedule's tick, or the run's creation time), mapped onto every op so all ops of a run decide
against the same clock. An ``as_of`` more than an hour after the run's creation fails every op
before it acts: a future clock would delete data still within its period. The periods come
from the ``retention_settings`` resource (``ANALYTICS_*_DAYS``/``_MONTHS``).
"""

from collections.abc import Callable

import dagster as dg
from pydantic import Field

from analytics_pipeline.defs.resources import ClockResource, ObjectStorageResource, RetentionSettings, WarehouseResource
from analytics_pipeline.defs.retention.dagster_runs import prune_finished_runs
from analytics_pipeline.defs.shared import RETENTION_TAG, markdown_table
from analytics_pipeline.retention import export_files, lifecycle, raw_archive, raw_partitions, warehouse_rows
from analytics_pipeline.retention.policy import Cutoffs, RetentionPolicy, parse_as_of, require_not_ahead
from analytics_pipeline.retention.report import ActionReport
from analytics_pipeline.storage.object_store import ObjectStore

MAX_DETAIL_ROWS = 200


class RetentionConfig(dg.Config):
    """Run config of ``retention_job``."""

    dry_run: bool = Field(default=False, description="Compute and report every action; change nothing.")
    as_of: str | None = Field(
        default=None, description="ISO 8601 moment the retention periods count back from (UTC when no zone); "
                                  "default: the schedule's tick, or the run's creation time. At most 1 hour "
                                  "after the run's creation (a future moment would delete data still in its "
                                  "period): the run fails otherwise.")


OPS = ("archive_raw_event_days", "drop_expired_raw_partitions", "delete_expired_rollups",
       "delete_expired_quarantine", "expire_export_files", "ensure_archive_lifecycle_rule", "prune_dagster_runs")


@dg.config_mapping
def retention_run_config(config: RetentionConfig) -> dg.RunConfig:
    """The job's two fields, given to every op."""
    return dg.RunConfig(ops={op: RetentionConfig(dry_run=config.dry_run, as_of=config.as_of) for op in OPS})


def _cutoffs(context: dg.OpExecutionContext, config: RetentionConfig, retention_settings: RetentionSettings,
             clock: ClockResource) -> tuple[RetentionPolicy, Cutoffs]:
    policy = retention_settings.policy()
    # The run's creation time (a frozen clock stands in for it): one clock for every op of the
    # run, however long each takes.
    created_at = clock.frozen_or(context.instance.get_run_record_by_id(context.run_id).create_timestamp)
    if config.as_of:
        try:
            now = require_not_ahead(parse_as_of(config.as_of), created_at)
        except ValueError as error:
            raise dg.Failure(str(error)) from None
    else:
        now = created_at
    return policy, policy.cutoffs(now)


def _details(items: list[dict]) -> dg.MetadataValue:
    """The items as a table: a column per key any item has, in the order they first appear."""
    columns: list[str] = []
    for item in items:
        columns += [c for c in item if c not in columns]
    return markdown_table(columns, [[item.get(c) for c in columns] for item in items], limit=MAX_DETAIL_ROWS)


def _metadata(report: ActionReport, cutoffs: Cutoffs) -> dict:
    metadata: dict = {"dry_run": report.dry_run, "as_of": cutoffs.now.isoformat()}
    metadata.update({key: value for key, value in report.figures.items() if value is not None})
    if report.items:
        metadata["details"] = _details(report.items)
    if report.problems:
        metadata["problems"] = dg.MetadataValue.md("\n".join(f"- {p}" for p in report.problems[:MAX_DETAIL_ROWS]))
    return metadata


def _report(context: dg.OpExecutionContext, report: ActionReport, cutoffs: Cutoffs, *,
            fail_on_problems: bool = False) -> None:
    context.log.info(report.summary)
    for problem in report.problems:
        context.log.warning(problem)
    metadata = _metadata(report, cutoffs)
    if fail_on_problems and report.problems:
        raise dg.Failure(description=f"{report.action}: {len(report.problems)} problem(s): "
                                     + "; ".join(report.problems[:5]), metadata=metadata)
    context.add_output_metadata(metadata)


def _on_warehouse(context: dg.OpExecutionContext, config: RetentionConfig, retention_settings: RetentionSettings,
                  clock: ClockResource, warehouse: WarehouseResource,
                  action: Callable[..., ActionReport], *stores: ObjectStore, fail_on_problems: bool = False) -> None:
    """``action(conn, *stores, cutoffs, dry_run=...)`` on an autocommit connection (the action commits
    each day it touches on its own) at the run's cutoffs, and its report."""
    _, cutoffs = _cutoffs(context, config, retention_settings, clock)
    with warehouse.connect(autocommit=True) as conn:
        report = action(conn, *stores, cutoffs, dry_run=config.dry_run)
    _report(context, report, cutoffs, fail_on_problems=fail_on_problems)


@dg.op(out=dg.Out(dg.Nothing))
def archive_raw_event_days(context: dg.OpExecutionContext, config: RetentionConfig,
                           retention_settings: RetentionSettings, clock: ClockResource, warehouse: WarehouseResource,
                           object_storage: ObjectStorageResource) -> None:
    """Archive every raw event day older than `ANALYTICS_RAW_ARCHIVE_AFTER_DAYS` as Parquet
    (zstd) under `ANALYTICS_ARCHIVE_URL` (`raw_events/year=/month=/day=/events.parquet`),
    streamed from PostgreSQL, read back and verified (sha256, row counts) before it is recorded
    in `analytics_raw_archives`. Unchanged days are skipped; days that late events changed are
    archived again. Fails (so no partition is dropped this run) if any day cannot be verified."""
    _on_warehouse(context, config, retention_settings, clock, warehouse, raw_archive.archive_raw_event_days,
                  object_storage.archive(), fail_on_problems=True)


@dg.op(ins={"archived": dg.In(dg.Nothing)}, out=dg.Out(dg.Nothing))
def drop_expired_raw_partitions(context: dg.OpExecutionContext, config: RetentionConfig,
                                retention_settings: RetentionSettings, clock: ClockResource,
                                warehouse: WarehouseResource, object_storage: ObjectStorageResource) -> None:
    """Drop the daily partitions of raw events older than `ANALYTICS_RAW_RETENTION_DAYS`
    whole, with their dedupe keys, but only days archived and verified whose archive is still
    in storage and whose row count still matches it; any other day is kept and reported."""
    _on_warehouse(context, config, retention_settings, clock, warehouse, raw_partitions.drop_expired_raw_partitions,
                  object_storage.archive())


@dg.op(out=dg.Out(dg.Nothing))
def delete_expired_rollups(context: dg.OpExecutionContext, config: RetentionConfig,
                           retention_settings: RetentionSettings, clock: ClockResource,
                           warehouse: WarehouseResource) -> None:
    """Delete hourly, daily and endpoint rollups older than `ANALYTICS_ROLLUP_RETENTION_MONTHS`
    complete months."""
    _on_warehouse(context, config, retention_settings, clock, warehouse, warehouse_rows.delete_expired_rollups)


@dg.op(out=dg.Out(dg.Nothing))
def delete_expired_quarantine(context: dg.OpExecutionContext, config: RetentionConfig,
                              retention_settings: RetentionSettings, clock: ClockResource,
                              warehouse: WarehouseResource) -> None:
    """Delete quarantined lines older than `ANALYTICS_QUARANTINE_RETENTION_DAYS`."""
    _on_warehouse(context, config, retention_settings, clock, warehouse, warehouse_rows.delete_expired_quarantine)


@dg.op(out=dg.Out(dg.Nothing))
def expire_export_files(context: dg.OpExecutionContext, config: RetentionConfig,
                        retention_settings: RetentionSettings, clock: ClockResource, warehouse: WarehouseResource,
                        object_storage: ObjectStorageResource) -> None:
    """Delete finance export files older than `ANALYTICS_EXPORT_RETENTION_DAYS`: ad hoc
    jobs' CSVs and manifests (their `analytics_export_jobs` rows stay, marked `expired`;
    pending and running jobs are never touched) and monthly exports."""
    _on_warehouse(context, config, retention_settings, clock, warehouse, export_files.expire_export_files,
                  object_storage.exports())


@dg.op(out=dg.Out(dg.Nothing))
def ensure_archive_lifecycle_rule(context: dg.OpExecutionContext, config: RetentionConfig,
                                  retention_settings: RetentionSettings, clock: ClockResource,
                                  object_storage: ObjectStorageResource) -> None:
    """On S3, keep a lifecycle rule on the archive's `raw_events/` prefix: Glacier after
    `ANALYTICS_ARCHIVE_GLACIER_AFTER_DAYS`, expiry after `ANALYTICS_ARCHIVE_EXPIRE_AFTER_DAYS`.
    Merged by rule ID into the bucket's rules; written only when it changed.
    Not applicable to a local archive directory."""
    policy, cutoffs = _cutoffs(context, config, retention_settings, clock)
    report = lifecycle.ensure_archive_lifecycle(object_storage.archive(), policy, dry_run=config.dry_run)
    _report(context, report, cutoffs)


@dg.op(out=dg.Out(dg.Nothing))
def prune_dagster_runs(context: dg.OpExecutionContext, config: RetentionConfig,
                       retention_settings: RetentionSettings, clock: ClockResource) -> None:
    """Delete finished Dagster runs (and their event logs) created more than
    `ANALYTICS_DAGSTER_RUN_RETENTION_DAYS` days ago, in batches; unfinished runs stay."""
    _, cutoffs = _cutoffs(context, config, retention_settings, clock)
    report = prune_finished_runs(context.instance, cutoffs, dry_run=config.dry_run)
    _report(context, report, cutoffs)


@dg.job(config=retention_run_config, executor_def=dg.in_process_executor, tags={RETENTION_TAG: "daily"})
def retention_job():
    """Retention as code: archive raw event days as verified Parquet, drop archived partitions
    past 400 days, delete rollups past 13 months, quarantine and export files past 90 days,
    keep the archive's S3 lifecycle rule, prune Dagster runs past 90 days. Run config:
    `dry_run` (report only) and `as_of` (the clock; at most 1 hour after the run's creation,
    or every op fails without acting)."""
    drop_expired_raw_partitions(archived=archive_raw_event_days())
    delete_expired_rollups()
    delete_expired_quarantine()
    expire_export_files()
    ensure_archive_lifecycle_rule()
    prune_dagster_runs()

