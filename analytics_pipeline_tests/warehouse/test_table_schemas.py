"""The tables the Dagster UI describes are the tables the migrations make: one source."""

import json

import dagster as dg

from analytics_pipeline.definitions import defs
from analytics_pipeline.defs.tables import ASSET_TABLES, SNAPSHOT, read_table_schemas, snapshot_text
from analytics_pipeline.warehouse.database import connect


def test_the_column_schemas_are_the_migrated_warehouse_s(warehouse_url):
    """A migration that changes an asset's table fails here until the snapshot is regenerated
    (`python -m analytics_pipeline.defs.tables "$(analytics-pipeline db url)"`)."""
    with connect(warehouse_url) as conn:
        live = read_table_schemas(conn, list(ASSET_TABLES.values()))
    assert all(live.values()), [table for table, columns in live.items() if not columns]
    assert json.loads(SNAPSHOT.read_text()) == live
    assert SNAPSHOT.read_text() == snapshot_text(live)


def test_every_asset_names_its_table_and_columns_and_links_to_its_code():
    graph = defs.resolve_asset_graph()
    assert set(ASSET_TABLES) == {key.to_user_string() for key in graph.materializable_asset_keys}
    snapshot = json.loads(SNAPSHOT.read_text())
    for name, table in ASSET_TABLES.items():
        metadata = graph.get(dg.AssetKey(name)).metadata
        assert metadata["dagster/table_name"] == f"analytics.{table}"
        columns = metadata["dagster/column_schema"].columns
        assert [c.name for c in columns] == [c["name"] for c in snapshot[table]]
        assert all(c.type for c in columns)
        references = metadata["dagster/code_references"].code_references
        assert any(ref.file_path.endswith(".py") and ref.line_number for ref in references), name
