"""Pruning Dagster's own run and event-log history through the instance API.

Dagster's ``retention:`` setting (dagster.yaml) covers schedule and sensor ticks only; runs
and their event logs grow forever unless deleted. ``DagsterInstance.delete_run`` removes a
run and every event it logged, materializations included; the history older than the period
is gone from the UI. Two things Dagster keeps per asset survive: the asset's latest
materialization, and its partition status cache (which partitions are materialized, failed,
missing), updated incrementally from new events only. That cache is not permanent: when it is
rebuilt (``dagster asset wipe-partitions-status-cache``, or a changed partitions definition,
e.g. a new start date, which discards it), it is recomputed from the events that remain, and
partitions whose materializations were all in deleted runs show as *missing* again (so a
"backfill missing partitions" would recompute them). Reads straight from the event log
(``DagsterInstance.get_materialized_partitions``, a partition's event history) lose them at once.
Runs that have not finished (queued, starting, started, canceling...) are never deleted.
"""

import dagster as dg

from analytics_pipeline.retention.policy import Cutoffs
from analytics_pipeline.retention.report import ActionReport, age_days, iso

FINISHED = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
NOT_FINISHED = tuple(status for status in dg.DagsterRunStatus if status not in FINISHED)
BATCH_SIZE = 100


def prune_finished_runs(instance: dg.DagsterInstance, cutoffs: Cutoffs, dry_run: bool = False,
                       batch_size: int = BATCH_SIZE) -> ActionReport:
    """Delete finished runs created before ``cutoffs.dagster_runs_before``, oldest first, in
    batches of ``batch_size``; a dry run counts them."""
    report = ActionReport("prune_dagster_runs", dry_run)
    before = cutoffs.dagster_runs_before
    finished = dg.RunsFilter(created_before=before, statuses=list(FINISHED))
    unfinished = instance.get_runs_count(dg.RunsFilter(created_before=before, statuses=list(NOT_FINISHED)))
    per_job: dict[str, int] = {}
    oldest = newest = None
    deleted = 0
    if dry_run:
        deleted = instance.get_runs_count(finished)
        first = instance.get_run_records(filters=finished, limit=1, ascending=True)
        last = instance.get_run_records(filters=finished, limit=1, ascending=False)
        oldest = first[0].create_timestamp if first else None
        newest = last[0].create_timestamp if last else None
    else:
        seen: set[str] = set()
        while True:
            records = instance.get_run_records(filters=finished, limit=batch_size, ascending=True)
            fresh = [r for r in records if r.dagster_run.run_id not in seen]
            if not fresh:
                if records:  # storage kept returning runs it was asked to delete
                    report.problems.append(f"{len(records)} runs could not be deleted, e.g. "
                                           f"{records[0].dagster_run.run_id}")
                break
            for record in fresh:
                run = record.dagster_run
                instance.delete_run(run.run_id)
                seen.add(run.run_id)
                per_job[run.job_name] = per_job.get(run.job_name, 0) + 1
                oldest = record.create_timestamp if oldest is None else min(oldest, record.create_timestamp)
                newest = record.create_timestamp if newest is None else max(newest, record.create_timestamp)
            deleted += len(fresh)
            if len(records) < batch_size:
                break
        report.items = [{"job": job, "action": "deleted", "runs": count} for job, count in sorted(per_job.items())]
    report.figures.update({
        "runs_deleted": deleted,
        "unfinished_runs_kept": unfinished,
        "oldest_run_created": iso(oldest),
        "newest_run_created": iso(newest),
        "oldest_age_days": age_days(oldest, cutoffs.now),
        "created_before": before.isoformat(),
        "batch_size": batch_size,
    })
    return report
