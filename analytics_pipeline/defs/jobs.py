"""The pipeline's jobs: one per partitioning of the plan (``defs/runner.py``), what the demo's runs
are launched as when no domain job covers a run's assets, and the job a plan's run executes as."""

from __future__ import annotations

import dagster as dg

# The pipeline's jobs, one per partitioning: what a plan's run is launched as when no domain job covers it.
PIPELINE_JOB_NAMES = {"unpartitioned": "unpartitioned_pipeline_job", "hourly": "hourly_pipeline_job",
                      "daily": "daily_pipeline_job", "monthly": "monthly_pipeline_job"}


def pipeline_jobs(definitions: dg.Definitions) -> list[dg.UnresolvedAssetJobDefinition]:
    """The pipeline's jobs: for each partitioning of the plan, every planned asset so partitioned
    (with their checks). A plan's run is launched as one of them when no domain job covers it."""
    from analytics_pipeline.defs.runner import materialization_plan  # the runner names these jobs

    by_kind: dict[str, list[dg.AssetKey]] = {}
    for run in materialization_plan(definitions):
        by_kind.setdefault(run.kind(), []).extend(run.asset_keys)
    return [dg.define_asset_job(
        PIPELINE_JOB_NAMES.get(kind, f"{kind}_pipeline_job"), selection=dg.AssetSelection.assets(*keys),
        description=f"Every {kind} asset of the pipeline and its checks, in dependency order, over a partition or "
                    f"a single-run range: what `analytics-pipeline demo` runs for its {kind} step when no "
                    "domain job covers it (a backfill of the whole pipeline can use it too).")
        for kind, keys in by_kind.items()]


def step_job(name: str, description: str | None, objects: list, selection: dg.AssetSelection,
             resources: dict) -> dg.JobDefinition:
    """The job one run of a plan executes as: named and described like the job it is launched as
    (``name``), selecting only the run's assets and checks of ``objects``."""
    return dg.Definitions(assets=objects, resources=resources, jobs=[
        dg.define_asset_job(name, selection=selection, description=description)]).resolve_job_def(name)
