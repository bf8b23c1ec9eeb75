import subprocess
import sys
from pathlib import Path

import dagster as dg

from analytics_pipeline.definitions import defs


def test_definitions_load_with_every_asset():
    dg.Definitions.validate_loadable(defs)
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    assert {"raw_usage_events", "model_prices", "hourly_usage_rollups", "daily_usage_rollups",
            "monthly_usage_exports"} <= keys


def test_every_asset_has_a_description_and_kinds():
    for spec in defs.resolve_all_asset_specs():
        assert spec.description, f"{spec.key} has no docstring for the UI"
        assert spec.kinds, f"{spec.key} declares no kinds"


def test_partitioned_assets_backfill_in_one_run():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.partitions_def is not None:
            assert node.backfill_policy == dg.BackfillPolicy.single_run(), key


def test_dagster_cli_validates_the_definitions():
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "analytics_pipeline.definitions"],
        capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[1],
    )
    assert result.returncode == 0, result.stdout + result.stderr
