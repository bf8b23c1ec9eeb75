"""What pruning Dagster runs leaves of an asset's status (the module docstring of
``defs/retention/dagster_runs.py`` states it; this pins it to the installed Dagster)."""

from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value

from analytics_pipeline.defs.retention.dagster_runs import prune_finished_runs
from analytics_pipeline.retention.policy import RetentionPolicy

DAYS = dg.DailyPartitionsDefinition(start_date="2026-01-01")


@dg.asset(partitions_def=DAYS)
def pruned_asset() -> None:
    """A partitioned asset whose runs get pruned."""


def test_pruned_runs_leave_the_latest_status_until_the_partition_cache_is_rebuilt(dagster_instance):
    for day in ("2026-01-01", "2026-01-02"):
        assert dg.materialize([pruned_asset], instance=dagster_instance, partition_key=day).success

    def materialized_per_cache() -> list[str]:
        cache = get_and_update_asset_status_cache_value(dagster_instance, pruned_asset.key, DAYS)
        return sorted(cache.deserialize_materialized_partition_subsets(DAYS).get_partition_keys()) if cache else []

    assert materialized_per_cache() == ["2026-01-01", "2026-01-02"]
    # Every run is past the period as of 91 days from now.
    report = prune_finished_runs(dagster_instance, RetentionPolicy().cutoffs(datetime.now(UTC) + timedelta(days=91)))
    assert report.figures["runs_deleted"] == 2 and dagster_instance.get_runs_count() == 0

    assert dagster_instance.get_latest_materialization_event(pruned_asset.key) is not None  # kept per asset
    assert materialized_per_cache() == ["2026-01-01", "2026-01-02"]  # the cache is kept ...
    assert dagster_instance.get_materialized_partitions(pruned_asset.key) == set()  # ... the event log is not
    dagster_instance.wipe_asset_cached_status([pruned_asset.key])  # dagster asset wipe-partitions-status-cache
    assert materialized_per_cache() == []  # rebuilt from the remaining events: missing again
