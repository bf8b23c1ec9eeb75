"""Run the pipeline over a window in-process: what the demo and the end-to-end tests execute.

The plan comes from the definitions' asset graph, not from hand-kept lists, so a new asset or
check is run as soon as its domain registers it. A window run materializes the time-partitioned
assets (and the unpartitioned assets they depend on, such as the price catalog) in dependency
order, as few single-run ranges as the graph allows: each run covers one partitions
definition, and holds every asset whose upstream assets are done by then or in the same run.
Each run evaluates the checks partitioned like its assets; the unpartitioned freshness checks
grade the data against the clock and are their schedule's.

Each run is launched under a named job, so the UI's runs list says what it was: the domain's own
job when one covers the run's assets (``model_prices_job``), else the pipeline's job of that
partitioning (``defs/jobs.py``: ``hourly_pipeline_job``, ...), registered with the definitions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import dagster as dg

from analytics_pipeline.defs.jobs import PIPELINE_JOB_NAMES, step_job
from analytics_pipeline.defs.shared import monthly_partitions, window_range_tags

LAUNCHED_BY_TAG = "analytics/launched_by"  # demo, or the tests' runner
PLAN_STEP_TAG = "analytics/plan_step"  # e.g. "2 of 6: Hourly, starting 2026-11-01 UTC."

# Finer partitions first: an hour's run feeds its day's, a day's its month's.
_PARTITION_ORDER = {dg.HourlyPartitionsDefinition: 1, dg.DailyPartitionsDefinition: 2,
                    dg.MonthlyPartitionsDefinition: 3}


@dataclass(frozen=True)
class PlannedRun:
    """One single-run materialization of the plan."""

    asset_keys: tuple[dg.AssetKey, ...]  # in dependency order
    check_keys: tuple[dg.AssetCheckKey, ...]
    partitions_def: dg.PartitionsDefinition | None

    def partitioning(self) -> str:
        return "unpartitioned" if self.partitions_def is None else str(self.partitions_def).split(",")[0]

    def kind(self) -> str:
        """unpartitioned, hourly, daily, monthly (or another partitions definition's class)."""
        if self.partitions_def is None:
            return "unpartitioned"
        return type(self.partitions_def).__name__.removesuffix("PartitionsDefinition").lower()

    def describe(self) -> str:
        return f"{self.partitioning()}: {', '.join(k.to_user_string() for k in self.asset_keys)}"


def _rank(partitions_def: dg.PartitionsDefinition | None) -> int:
    if partitions_def is None:
        return 0
    return next((rank for cls, rank in _PARTITION_ORDER.items() if isinstance(partitions_def, cls)), 9)


def materialization_plan(definitions: dg.Definitions, selection: dg.AssetSelection | None = None) -> list[PlannedRun]:
    """The runs that materialize the time-partitioned assets of ``selection`` (default: all)
    and the unpartitioned assets they depend on, in dependency order, with their checks."""
    graph = definitions.resolve_asset_graph()
    selected = (selection or dg.AssetSelection.all()).resolve(graph)
    partitions = {key: graph.get(key).partitions_def for key in graph.materializable_asset_keys}
    timed = {key for key in selected if isinstance(partitions.get(key), dg.TimeWindowPartitionsDefinition)}
    upstream_unpartitioned = {key for key in dg.AssetSelection.assets(*timed).upstream().resolve(graph)
                              if key in partitions and partitions[key] is None}
    planned = timed | (upstream_unpartitioned & selected if selection else upstream_unpartitioned)
    parents = {key: {p for p in graph.get(key).parent_keys if p in planned} for key in planned}

    runs: list[PlannedRun] = []
    done: set[dg.AssetKey] = set()
    pending = sorted(planned, key=lambda k: k.to_user_string())
    while pending:
        ready = [k for k in pending if parents[k] <= done]
        if not ready:
            raise ValueError(f"the asset graph has a cycle among {pending}")
        partitions_def = min((partitions[k] for k in ready), key=_rank)
        group: list[dg.AssetKey] = []
        grew = True
        while grew:  # add every asset of this partitioning whose parents are done or in the run
            grew = False
            for key in pending:
                if key not in group and partitions[key] == partitions_def and parents[key] <= done | set(group):
                    group.append(key)
                    grew = True
        checks = tuple(sorted(
            (check for check in graph.asset_check_keys
             if check.asset_key in group and _check_partitions(definitions, check) == partitions_def),
            key=lambda c: (c.asset_key.to_user_string(), c.name)))
        runs.append(PlannedRun(tuple(group), checks, partitions_def))
        done.update(group)
        pending = [k for k in pending if k not in done]
    return runs


def _check_partitions(definitions: dg.Definitions, check_key: dg.AssetCheckKey) -> dg.PartitionsDefinition | None:
    for checks_def in definitions.asset_checks or ():
        if check_key in checks_def.check_keys:
            return checks_def.partitions_def
    for assets_def in definitions.assets or ():  # checks declared on the asset (check_specs)
        if isinstance(assets_def, dg.AssetsDefinition) and check_key in assets_def.check_keys:
            return assets_def.partitions_def
    return None


def _range_tags(partitions_def: dg.PartitionsDefinition | None, start: datetime, end: datetime) -> dict[str, str]:
    if partitions_def is None:
        return {}
    if partitions_def == monthly_partitions:  # the months the window's days fall in
        start = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = (end - timedelta(microseconds=1)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = (end + timedelta(days=32)).replace(day=1)
    return window_range_tags(partitions_def, start, end)


def _definitions_objects(definitions: dg.Definitions, run: PlannedRun) -> list:
    """The asset and check definitions a planned run needs (checks declared on an asset come with it)."""
    objects: list = []
    for assets_def in definitions.assets or ():
        if isinstance(assets_def, dg.AssetsDefinition) and set(assets_def.keys) & set(run.asset_keys):
            objects.append(assets_def)
    for checks_def in definitions.asset_checks or ():
        if set(checks_def.check_keys) & set(run.check_keys):
            objects.append(checks_def)
    return objects


def _named_job(definitions: dg.Definitions, run: PlannedRun) -> tuple[str, str | None]:
    """The name and description of the job ``run`` is launched as: the smallest registered job whose
    assets cover the run's (a domain's own job first), else the pipeline's job of its partitioning."""
    repository = definitions.get_repository_def()
    covering = []
    for job in repository.get_all_jobs():
        if job.name.startswith("__") or job.asset_layer is None:
            continue
        keys = set(job.asset_layer.selected_asset_keys)
        if keys and set(run.asset_keys) <= keys:
            covering.append((job.name in PIPELINE_JOB_NAMES.values(), len(keys), job.name, job.description))
    if covering:
        _, _, name, description = min(covering)
        return name, description
    kind = run.kind()
    return PIPELINE_JOB_NAMES.get(kind, f"{kind}_pipeline_job"), f"The pipeline's {kind} assets (a plan's run)."


def materialize_window(start: datetime, end: datetime, *, instance: dg.DagsterInstance, resources: dict,
                       selection: dg.AssetSelection | None = None, definitions: dg.Definitions | None = None,
                       log_level: str = "DEBUG", launched_by: str = "runner",
                       ) -> list[tuple[PlannedRun, dg.ExecuteInProcessResult]]:
    """Materialize the plan of ``definitions`` (default: the project's) over the whole days
    ``[start, end)`` (UTC), monthly assets over the months those days fall in, each planned run
    as one single-run range. Raises on the first failed run. Each run is launched under a named
    job (:func:`_named_job`) and tagged with who launched it (``launched_by``), its step of the plan
    and its partitioning, so the UI's runs list says what each run was."""
    if definitions is None:
        from analytics_pipeline.definitions import defs as definitions
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    results = []
    plan = materialization_plan(definitions, selection)
    for step, run in enumerate(plan, start=1):
        objects = _definitions_objects(definitions, run)
        selected = dg.AssetSelection.assets(*run.asset_keys).without_checks()
        if run.check_keys:
            selected |= dg.AssetSelection.checks(*run.check_keys)
        name, description = _named_job(definitions, run)
        job = step_job(name, description, objects, selected, resources)
        result = job.execute_in_process(
            instance=instance, run_config=run_config,
            tags={**_range_tags(run.partitions_def, start, end), LAUNCHED_BY_TAG: launched_by,
                  PLAN_STEP_TAG: f"{step} of {len(plan)}: {run.partitioning()}"})
        results.append((run, result))
    return results


def results_for(results: Iterable[tuple[PlannedRun, dg.ExecuteInProcessResult]],
                asset_key: dg.AssetKey) -> dg.ExecuteInProcessResult:
    """The result of the planned run that materialized ``asset_key``."""
    return next(result for run, result in results if asset_key in run.asset_keys)
