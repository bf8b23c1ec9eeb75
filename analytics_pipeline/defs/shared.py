"""Wiring every domain shares: the time partitions and their key formats, run tags, the
network retry policy, the metadata that describes a partition's time window, and what the
restatement sensors read of the raw events' materializations.

All partitions are UTC and start where the data starts, ``ANALYTICS_PARTITIONS_START`` (one
setting, read when the definitions load): the catalog then counts as missing only what should be
there. Hourly and daily partitions include the current, still open period (``end_offset=1``) so
the sensor can load an hour as its objects arrive; months are exported once complete.

A single-run range (a backfill, the demo) is one step per asset or check; Dagster 1.13 records its
output on every partition of the range. :func:`partition_figures` and :func:`check_each_partition`
make each partition carry its own figures and its own check result instead.
"""

import inspect
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)

from analytics_pipeline.money import format_money
from analytics_pipeline.monitoring.freshness import FAIL, FRESH, WARN, FreshnessReading
from analytics_pipeline.settings import current_settings

PARTITIONS_START = current_settings().partitions_start.isoformat()
# Partition keys, as Dagster formats them for each partitions definition below.
HOUR_KEY_FORMAT = "%Y-%m-%d-%H:%M"
DAY_KEY_FORMAT = "%Y-%m-%d"
MONTH_KEY_FORMAT = "%Y-%m-%d"  # a month is keyed by its first day

hourly_partitions = dg.HourlyPartitionsDefinition(start_date=f"{PARTITIONS_START}-00:00", end_offset=1)
daily_partitions = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START, end_offset=1)
monthly_partitions = dg.MonthlyPartitionsDefinition(start_date=PARTITIONS_START)

# Dagster's own tags: the partition of a run, and the two ends of a single-run range.
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
# Ours. The run queue allows 2 runs tagged EXPORT_TAG at once (dagster.yaml): the export contract.
EXPORT_TAG = "analytics/export"
EXPORT_JOB_ID_TAG = "analytics/export_job_id"
RETENTION_TAG = "analytics/retention"
OBJECTS_TAG = "analytics/objects"  # how many objects a sensor-launched run loads

#: For assets and ops that talk to object storage or cloud APIs: a transient network error is
#: retried with exponential backoff and full jitter (several runs failing at once do not retry
#: in lockstep).
NETWORK_RETRY = dg.RetryPolicy(max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.FULL)


# The freshness checks, evaluated together by ``freshness_checks_schedule``: each lives with its asset.
RAW_EVENTS_ARE_FRESH = dg.AssetCheckKey(dg.AssetKey("raw_usage_events"), "raw_events_are_fresh")
HOURLY_ROLLUPS_ARE_FRESH = dg.AssetCheckKey(dg.AssetKey("hourly_usage_rollups"), "hourly_rollups_are_fresh")
FRESHNESS_CHECKS = (RAW_EVENTS_ARE_FRESH, HOURLY_ROLLUPS_ARE_FRESH)


RAW_USAGE_EVENTS = dg.AssetKey("raw_usage_events")
MATERIALIZATIONS_PER_TICK = 200


def described_sensor(**kwargs) -> Callable:
    """``@dg.sensor`` whose description in the UI is the function's docstring (written once)."""
    return lambda fn: dg.sensor(description=inspect.cleandoc(fn.__doc__), **kwargs)(fn)


def described_schedule(**kwargs) -> Callable:
    """``@dg.schedule`` whose description in the UI is the function's docstring (written once)."""
    return lambda fn: dg.schedule(description=inspect.cleandoc(fn.__doc__), **kwargs)(fn)


def single_run_asset(partitions_def: dg.PartitionsDefinition, *, group_name: str, owners: list[str],
                     kinds: Iterable[str] = ("postgres",), **asset_args) -> Callable:
    """``@dg.asset`` of a partitioned table asset whose backfill is one run (``BackfillPolicy.single_run``):
    the declaration the domains' partitioned assets share. ``asset_args`` (``deps``, ``retry_policy``...)
    as ``dg.asset`` takes them; the description is the function's docstring."""
    return dg.asset(partitions_def=partitions_def, backfill_policy=dg.BackfillPolicy.single_run(), kinds=set(kinds),
                    group_name=group_name, owners=owners, **asset_args)


def window_metadata(window: dg.TimeWindow) -> dict[str, dg.MetadataValue]:
    """The partition window (or single-run range) a result covers, as timestamps the UI shows."""
    return {"window_start": dg.MetadataValue.timestamp(window.start),
            "window_end": dg.MetadataValue.timestamp(window.end)}


def range_tags(first_key: str, last_key: str) -> dict[str, str]:
    """Tags that make a run one single-run range over the partitions ``first_key..last_key``."""
    return {RANGE_START_TAG: first_key, RANGE_END_TAG: last_key}


def window_range_tags(partitions_def: dg.TimeWindowPartitionsDefinition, start: datetime,
                      end: datetime) -> dict[str, str]:
    """Range tags over the partitions of ``partitions_def`` inside ``[start, end)``."""
    keys = partitions_def.get_partition_keys_in_time_window(dg.TimeWindow(start, end))
    if not keys:
        raise ValueError(f"no {partitions_def} partition lies in [{start.isoformat()}, {end.isoformat()})")
    return range_tags(keys[0], keys[-1])


def _minutes(delta: timedelta) -> float:
    return round(delta.total_seconds() / 60, 1)


def freshness_check_result(reading: FreshnessReading, what: str) -> dg.AssetCheckResult:
    """A freshness check's result: passes when fresh, WARN beyond the warn threshold, ERROR
    beyond the fail threshold (or without data); lag and the reading's details as metadata."""
    warn, fail = _minutes(reading.warn_after), _minutes(reading.fail_after)
    metadata = {"as_of": dg.MetadataValue.timestamp(reading.as_of), "warn_after_minutes": warn,
                "fail_after_minutes": fail}
    if reading.lag is None:
        description = f"no {what} at all up to {reading.as_of:%Y-%m-%d %H:%M} UTC"
    else:
        metadata["lag_minutes"] = _minutes(reading.lag)
        metadata["newest"] = dg.MetadataValue.timestamp(reading.newest)
        description = f"newest {what} is {_minutes(reading.lag):g} min old" + {
            FRESH: f" (warns beyond {warn:g} min)",
            WARN: f": beyond the warn threshold of {warn:g} min (fails beyond {fail:g} min)",
            FAIL: f": beyond the fail threshold of {fail:g} min"}[reading.state]
    for name, moment in reading.details.items():
        if moment is not None:
            metadata[name] = dg.MetadataValue.timestamp(moment)
            metadata[f"{name}_lag_minutes"] = _minutes(max(reading.as_of - moment, timedelta(0)))
    return dg.AssetCheckResult(
        passed=reading.state == FRESH,
        severity=dg.AssetCheckSeverity.ERROR if reading.state == FAIL else dg.AssetCheckSeverity.WARN,
        description=description,
        metadata=metadata,
    )


def contiguous_ranges(keys: Iterable[str], partitions_def: dg.TimeWindowPartitionsDefinition) -> list[tuple[str, str]]:
    """Partition keys grouped into runs of consecutive partitions: [(first, last), ...] (keys that
    are not partitions of ``partitions_def`` left out)."""
    ranges: list[tuple[str, str]] = []
    for key in sorted(k for k in set(keys) if partitions_def.has_partition_key(k)):
        if ranges and partitions_def.get_next_partition_key(ranges[-1][1]) == key:
            ranges[-1] = (ranges[-1][0], key)
        else:
            ranges.append((key, key))
    return ranges


class TouchedHours(NamedTuple):
    """What new ``raw_usage_events`` materializations say they changed."""

    hours: list[datetime]  # the hourly partitions their ``event_hours`` metadata names, oldest first
    materializations: int
    last_storage_id: int  # the sensor's next cursor


def raw_event_hours_touched(instance: dg.DagsterInstance, cursor: str | None) -> TouchedHours | None:
    """The event hours touched by the ``raw_usage_events`` materializations after the storage id
    ``cursor`` (at most MATERIALIZATIONS_PER_TICK of them; late events included), or None when
    there is no new one."""
    result = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=RAW_USAGE_EVENTS, after_storage_id=int(cursor) if cursor else None),
        limit=MATERIALIZATIONS_PER_TICK, ascending=True)
    if not result.records:
        return None
    touched: set[str] = set()
    for record in result.records:
        entry = record.asset_materialization.metadata.get("event_hours")
        if entry is not None:
            touched.update(entry.value if isinstance(entry.value, list) else json.loads(entry.value))
    hours = [hourly_partitions.time_window_for_partition_key(key).start
             for key in sorted(touched) if hourly_partitions.has_partition_key(key)]
    return TouchedHours(hours, len(result.records), result.records[-1].storage_id)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal):
        return format_money(value)
    return str(value).replace("|", "\\|").replace("\n", " ")


def _line(cells: Iterable[str]) -> str:
    return "|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]], total: Sequence[object] | None = None,
                   *, limit: int | None = None) -> dg.MetadataValue:
    """A markdown table for Dagster metadata: the one way every asset, check and op shows a table.
    Cells: integers with thousands separators, money (``Decimal``) as a person reads it
    (``money.format_money``: 2 decimals, half up), floats without trailing zeros, None empty; a
    column of numbers is right-aligned. ``total``: a last row, in bold; ``limit``: at most that
    many rows, then a line saying how many more there are."""
    rows = [list(row) for row in rows]
    shown = rows if limit is None else rows[:limit]
    body = [*shown, *([list(total)] if total is not None else [])]
    columns = list(zip(*body, strict=True)) if body else [()] * len(header)
    numeric = [any(_is_number(v) for v in column) and all(_is_number(v) or v in (None, "") for v in column)
               for column in columns]
    lines = [_line(header), "|" + "".join("---:|" if right else "---|" for right in numeric)]
    lines += [_line(_cell(v) for v in row) for row in shown]
    if total is not None:
        lines.append(_line(f"**{cell}**" if cell else "" for cell in map(_cell, total)))
    if len(rows) > len(shown):
        lines.append(f"\n... and {len(rows) - len(shown)} more")
    return dg.MetadataValue.md("\n".join(lines))


def partition_windows(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
                      partitions_def: dg.TimeWindowPartitionsDefinition) -> list[tuple[str, dg.TimeWindow]]:
    """The partitions a run covers (one, or each of a single-run range), with their windows."""
    return [(key, partitions_def.time_window_for_partition_key(key)) for key in context.partition_keys]


def partition_figures(context: dg.AssetExecutionContext, figures_by_partition: Mapping[str, Mapping[str, object]],
                      run_totals: Mapping[str, object] | None = None) -> None:
    """Record each partition's own figures on its materialization (``add_asset_metadata`` with a
    partition key: Dagster merges them into that partition's event only), so plots by partition
    are a time series. A range's totals are logged once, in the run, never stored on each hour."""
    for key, figures in figures_by_partition.items():
        context.add_asset_metadata(dict(figures), partition_key=key)
    if run_totals and len(figures_by_partition) > 1:
        keys = sorted(figures_by_partition)
        context.log.info(f"run totals over {len(keys)} partitions ({keys[0]} to {keys[-1]}): " + ", ".join(
            f"{name}={value}" for name, value in run_totals.items() if isinstance(value, int | float)))


def partition_result(context: dg.AssetExecutionContext, figures_by_partition: Mapping[str, Mapping[str, object]],
                     run_metadata: Mapping[str, object], *,
                     windows_of: dg.TimeWindowPartitionsDefinition | None = None) -> dg.MaterializeResult:
    """The result of an asset that records each partition's own figures (:func:`partition_figures`)
    beside what its run computed (``run_metadata``). A one-partition run's metadata is that
    partition's: kept whole (but for the figures already recorded). A range's numeric figures are
    run totals: logged once, never stored on each partition; what describes the run (tables,
    sources, lists) stays on its materializations. ``windows_of``: each partition's figures start
    with its window in that partitions definition (:func:`window_metadata`)."""
    if windows_of is not None:
        figures_by_partition = {key: {**window_metadata(windows_of.time_window_for_partition_key(key)), **figures}
                                for key, figures in figures_by_partition.items()}
    partition_figures(context, figures_by_partition, run_totals=run_metadata)
    recorded = {name for figures in figures_by_partition.values() for name in figures}
    single = len(figures_by_partition) == 1
    return dg.MaterializeResult(metadata={
        name: value for name, value in run_metadata.items()
        if name not in recorded and (single or isinstance(value, bool) or not isinstance(value, int | float))})


CheckJudgement = dg.AssetCheckResult | Iterable[dg.AssetCheckResult]


def check_each_partition(context: dg.AssetCheckExecutionContext | dg.AssetExecutionContext,
                         partitions_def: dg.TimeWindowPartitionsDefinition,
                         judge: Callable[[str, dg.TimeWindow], CheckJudgement]) -> Iterator:
    """A partitioned check's results, one per partition the run covers, each judged on its own window.

    Why this way (Dagster 1.13.27): ``AssetCheckResult`` has no partition; Dagster gives the result
    of a check step the step's partition, and a single-run range has none, so the one result is
    stored unpartitioned and every planned partition of the range stays "Skipped". Per-partition
    check steps do not exist for single-run backfills, and making the checks unpartitioned would
    lose the UI's per-partition status. ``AssetCheckEvaluation`` does carry a ``partition``, and the
    step executor accepts it from a compute function (the event log then fills in the planned row of
    that partition). So ``judge(key, window)`` is called per partition, its results become
    evaluations of that partition (blocking as the spec says, pointing at the partition's latest
    materialization), and each check's output is yielded once, as ``AssetCheckResult`` would.
    A failed blocking evaluation still fails the step."""
    op_context = context.op_execution_context
    definition = op_context.assets_def
    selected = context.selected_asset_check_keys
    windows = partition_windows(context, partitions_def)
    targets = _latest_materializations(context.instance, {k.asset_key for k in selected}, [k for k, _ in windows])
    judged: list[dg.AssetCheckKey] = []
    for partition, window in windows:
        judgement = judge(partition, window)
        for result in [judgement] if isinstance(judgement, dg.AssetCheckResult) else judgement:
            key = _check_key(result, selected)
            if key not in judged:
                judged.append(key)
            yield dg.AssetCheckEvaluation(
                asset_key=key.asset_key, check_name=key.name, passed=result.passed, metadata=result.metadata,
                severity=result.severity, description=result.description,
                blocking=definition.get_spec_for_check_key(key).blocking, partition=partition,
                target_materialization_data=targets.get((key.asset_key, partition)))
    for key in judged:
        yield dg.Output(None, output_name=definition.get_output_name_for_asset_check_key(key))


def _check_key(result: dg.AssetCheckResult, selected: Iterable[dg.AssetCheckKey]) -> dg.AssetCheckKey:
    matching = [key for key in selected if (result.check_name in (None, key.name))
                and (result.asset_key in (None, key.asset_key))]
    if len(matching) != 1:
        raise dg.DagsterInvariantViolationError(
            f"check result {result.asset_key}/{result.check_name} matches {len(matching)} selected checks: {selected}")
    return matching[0]


def _latest_materializations(instance: dg.DagsterInstance, asset_keys: Iterable[dg.AssetKey], partitions: list[str]
                             ) -> dict[tuple[dg.AssetKey, str], AssetCheckEvaluationTargetMaterializationData]:
    """The latest materialization of each (asset, partition): what a check result was judged against."""
    targets = {}
    for asset_key in asset_keys:
        ids = instance.event_log_storage.get_latest_storage_id_by_partition(
            asset_key, dg.DagsterEventType.ASSET_MATERIALIZATION, set(partitions))
        if not ids:
            continue
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset_key, storage_ids=list(ids.values())), limit=len(ids)).records
        for record in records:
            targets[(asset_key, record.partition_key)] = AssetCheckEvaluationTargetMaterializationData(
                storage_id=record.storage_id, run_id=record.run_id, timestamp=record.timestamp)
    return targets
