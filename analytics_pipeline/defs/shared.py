"""Wiring every domain shares: the time partitions and their key formats, run tags, the
network retry policy, the metadata that describes a partition's time window, and what the
restatement sensors read of the raw events' materializations.

All partitions are UTC. Hourly and daily partitions include the current, still open period
(``end_offset=1``) so the sensor can load an hour as its objects arrive; months are
exported once complete.
"""

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NamedTuple

import dagster as dg

from analytics_pipeline.freshness import FAIL, FRESH, WARN, FreshnessReading

PARTITIONS_START = "2025-01-01"
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
