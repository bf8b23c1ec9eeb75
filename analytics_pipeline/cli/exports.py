"""``analytics-pipeline export``: request an ad hoc usage export (the export API's path: its row in
the warehouse, under the same cap of active jobs; ``export_request_sensor`` runs it), wait for
it, or list export jobs."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime

from analytics_pipeline.cli.shared import warehouse_url


def _print_job(job: dict) -> None:
    for key, value in job.items():
        if value is not None:
            print(f"{key:>16}: {value.isoformat() if hasattr(value, 'isoformat') else value}")


NO_DAEMON_HINT = ("no Dagster daemon has picked up export job {job_id} within {seconds:g} s: it stays pending until "
                  "one runs export_request_sensor. Start one with `analytics-pipeline ui` (the UI runs a daemon) or "
                  "`dagster-daemon run` (with DAGSTER_HOME set as `analytics-pipeline ui` sets it), and the job "
                  "will run then.")


def cmd_export(args) -> int:
    """Creates the export job's row, as the export API does; export_request_sensor runs it."""
    from analytics_pipeline.exports.export_jobs import (
        ExportRequest,
        InvalidExportRequest,
        TooManyActiveJobs,
        create_job,
    )
    from analytics_pipeline.settings import current_settings
    from analytics_pipeline.warehouse.database import connect

    settings = current_settings()
    url = warehouse_url(settings)
    if args.list:
        return _list_jobs(url, args)
    if not (args.org and args.start and args.end):
        print("export: --org, --start and --end are required (or --list)", file=sys.stderr)
        return 2
    try:
        request = ExportRequest.parse(organization_id=args.org, start=args.start, end=args.end,
                                      granularity=args.granularity, by_model=not args.across_models,
                                      initiated_by=args.initiated_by or os.environ.get("USER") or "cli")
    except InvalidExportRequest as error:
        print(f"export request rejected: {error}", file=sys.stderr)
        return 2
    with connect(url, autocommit=True) as conn:
        try:  # the export API's path: the same cap of pending and running jobs per organization
            create_job(conn, request, created_at=datetime.now(UTC), max_active=settings.api_max_active_jobs)
        except TooManyActiveJobs as error:
            print(f"export request rejected: {error}", file=sys.stderr)
            return 2
    print(f"export job {request.job_id} is pending; export_request_sensor runs it "
          f"(`analytics-pipeline export --list` shows it)", file=sys.stderr)
    if not args.wait:
        print(request.job_id)
        return 0
    return _wait_for(url, request.job_id, timeout=args.timeout, poll_seconds=args.poll_seconds)


def _wait_for(url: str, job_id, *, timeout: float, poll_seconds: float) -> int:
    """Poll the job until it has run (0: succeeded, 1: failed or expired) or ``timeout`` passed (3)."""
    from analytics_pipeline.exports.export_jobs import list_jobs
    from analytics_pipeline.warehouse.database import connect

    deadline = time.monotonic() + timeout
    while True:
        with connect(url) as conn:
            [job] = list_jobs(conn, job_id=job_id)
        if job["status"] in ("succeeded", "failed", "expired"):
            _print_job(job)
            return 0 if job["status"] == "succeeded" else 1
        if time.monotonic() >= deadline:
            if job["status"] == "pending" and job["run_id"] is None:
                print(NO_DAEMON_HINT.format(job_id=job_id, seconds=timeout), file=sys.stderr)
            else:
                print(f"export job {job_id} is still {job['status']} after {timeout:g} s "
                      f"(run {job['run_id']}); `analytics-pipeline export --list` shows it later", file=sys.stderr)
            return 3
        time.sleep(poll_seconds)


def _list_jobs(url: str, args) -> int:
    from analytics_pipeline.exports.export_jobs import list_jobs
    from analytics_pipeline.warehouse.database import connect

    with connect(url) as conn:
        jobs = list_jobs(conn, status=args.status, organization_id=args.org)
    for job in jobs:
        print(f"{job['job_id']}  {job['status']:<9}  {job['organization_id']}  {job['granularity']:<7}  "
              f"{job['range_start']:%Y-%m-%dT%H:%MZ} .. {job['range_end']:%Y-%m-%dT%H:%MZ}  "
              f"rows={job['row_count']}  {job['checksum'] or job['error'] or ''}")
    print(f"{len(jobs)} export job(s)")
    return 0


def add_export_command(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser("export", help="request an ad hoc usage export, or list export jobs")
    export.add_argument("--org", help="organization id")
    export.add_argument("--start", help="range start, ISO 8601 (e.g. 2026-10-01T00:00:00Z)")
    export.add_argument("--end", help="range end (exclusive), at most 31 days after start")
    export.add_argument("--granularity", choices=["hourly", "daily", "monthly"], default="daily")
    export.add_argument("--across-models", action="store_true", help="one row per bucket, model_id empty")
    export.add_argument("--initiated-by", help="who asked (default: $USER)")
    export.add_argument("--list", action="store_true", help="list export jobs instead")
    export.add_argument("--status", choices=["pending", "running", "succeeded", "failed", "expired"])
    export.add_argument("--wait", action="store_true", help="wait until the job has run and print it")
    export.add_argument("--timeout", type=float, default=300.0, help="seconds --wait waits (default 300)")
    export.add_argument("--poll-seconds", type=float, default=2.0, help=argparse.SUPPRESS)
    export.set_defaults(func=cmd_export)
