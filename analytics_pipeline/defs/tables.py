"""What the Dagster UI shows of the warehouse tables behind the assets: `dagster/table_name` and
`dagster/column_schema`.

One source: the migrations. ``table_schemas.json`` (beside this module) is the column list of each
table read from a freshly migrated warehouse; a test migrates one and compares, so a migration that
changes a table without regenerating the file fails it. Regenerate with
``python -m analytics_pipeline.defs.tables "$(analytics-pipeline db url)"`` (migrates that
warehouse to the head revision, then writes the file).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import dagster as dg
import psycopg
from psycopg import sql

from analytics_pipeline.defs.resources import WarehouseResource
from analytics_pipeline.defs.shared import partition_result, partition_windows, window_metadata
from analytics_pipeline.warehouse.database import SCHEMA
from analytics_pipeline.warehouse.sql import compose_sql, load_sql

SNAPSHOT = Path(__file__).with_name("table_schemas.json")

#: The table each asset writes (the one its UI page describes); other tables it also writes are
#: named in its description.
ASSET_TABLES = {
    "raw_usage_events": "analytics_events",
    "model_prices": "analytics_model_prices",
    "hourly_usage_rollups": "analytics_hourly_rollups",
    "daily_usage_rollups": "analytics_daily_rollups",
    "endpoint_performance_rollups": "analytics_endpoint_daily_rollups",
    "monthly_usage_exports": "analytics_export_jobs",
    "daily_infra_costs": "analytics_infra_costs",
    "tenant_cost_attribution": "analytics_tenant_cost_attribution",
    "tenant_profitability": "analytics_tenant_profitability",
    "tenant_profitability_month_to_date": "analytics_tenant_profitability",
    "daily_activity": "analytics_customer_activity_daily",
    "feature_adoption": "analytics_feature_adoption_daily",
    "customer_health": "analytics_customer_health_daily",
    "usage_forecasts": "analytics_usage_forecasts",
    "monthly_revenue": "analytics_monthly_revenue",
    "top_customers": "analytics_top_customers",
    "endpoint_hourly_metrics": "analytics_endpoint_hourly_metrics",
    "agent_hourly_metrics": "analytics_agent_hourly_metrics",
    "session_concurrency": "analytics_session_concurrency_hourly",
    "ci_build_runs": "analytics_ci_runs",
    "ci_duration_trends": "analytics_ci_duration_trends",
}


_AGGREGATES = ("sum", "avg", "min", "max")
#: A figure of only the platform-wide rows of a table that also has per-organization ones.
PLATFORM_ROWS = sql.SQL("t.organization_id IS NULL")


class Figure(NamedTuple):
    """A partition's figure read from its asset's table: ``aggregate`` (sum, avg, min or max) of
    ``column``, over the rows ``rows`` selects (default: all of the partition's)."""

    aggregate: str
    column: str
    rows: sql.Composable | None = None


def table_partition_figures(conn: psycopg.Connection, asset: str, partitions: list[tuple[str, dg.TimeWindow]],
                            time_column: str, figures: Mapping[str, Figure]) -> dict[str, dict[str, object]]:
    """Each partition's own figures from the table ``asset`` writes (``ASSET_TABLES``), read after
    the run replaced them: its window, ``dagster/row_count`` (the table's rows whose ``time_column``
    is in the window) and ``figures`` by name (money as floats to the cent; a sum over no row is 0,
    any other aggregate over no row is left out)."""
    if any(figure.aggregate not in _AGGREGATES for figure in figures.values()):
        raise ValueError(f"aggregates are {_AGGREGATES}: {figures}")
    columns = sql.SQL("").join(
        sql.SQL(", {}(t.{}){} AS {}").format(
            sql.SQL(figure.aggregate), sql.Identifier(figure.column),
            sql.SQL(" FILTER (WHERE {})").format(figure.rows) if figure.rows is not None else sql.SQL(""),
            sql.Identifier(name))
        for name, figure in figures.items())
    query = compose_sql("warehouse/partition_figures", time_column=sql.Identifier(time_column), figures=columns,
                        table=sql.Identifier(SCHEMA, ASSET_TABLES[asset]))
    rows = conn.execute(query, {"keys": [key for key, _ in partitions],
                                "starts": [window.start for _, window in partitions],
                                "ends": [window.end for _, window in partitions]}).fetchall()
    by_partition = {}
    for key, row_count, *values in rows:
        metadata: dict[str, object] = {"dagster/row_count": row_count}
        for (name, figure), value in zip(figures.items(), values, strict=True):
            if value is None and figure.aggregate == "sum":
                value = 0
            if isinstance(value, Decimal):
                value = float(round(value, 2))
            if value is not None:
                metadata[name] = round(value, 4) if isinstance(value, float) else value
        by_partition[key] = metadata
    return {key: {**window_metadata(window), **by_partition[key]} for key, window in partitions}


def table_partition_result(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                           partitions_def: dg.TimeWindowPartitionsDefinition, time_column: str,
                           figures: Mapping[str, Figure], run_metadata: Mapping[str, object]) -> dg.MaterializeResult:
    """An asset's result with each partition's own figures read from its table
    (:func:`table_partition_figures`) and the run's metadata as :func:`partition_result` keeps it."""
    with warehouse.connect() as conn:
        by_partition = table_partition_figures(conn, context.asset_key.to_user_string(),
                                               partition_windows(context, partitions_def), time_column, figures)
    return partition_result(context, by_partition, run_metadata)


def read_table_schemas(conn: psycopg.Connection, tables: list[str]) -> dict[str, list[dict]]:
    """Each table's columns in the warehouse: name, PostgreSQL type, nullable, comment."""
    schemas: dict[str, list[dict]] = {table: [] for table in sorted(set(tables))}
    for table, column, data_type, nullable, description in conn.execute(
            load_sql("warehouse/table_columns"), {"schema": SCHEMA, "tables": sorted(set(tables))}):
        schemas[table].append({"name": column, "type": data_type, "nullable": nullable,
                               **({"description": description} if description else {})})
    return schemas


def table_schema(columns: list[dict]) -> dg.TableSchema:
    return dg.TableSchema(columns=[
        dg.TableColumn(name=c["name"], type=c["type"], description=c.get("description"),
                       constraints=dg.TableColumnConstraints(nullable=c["nullable"])) for c in columns])


def describe_tables(spec: dg.AssetSpec) -> dg.AssetSpec:
    """``spec`` with the table it writes and that table's columns (from the snapshot)."""
    table = ASSET_TABLES.get(spec.key.to_user_string())
    if table is None:
        return spec
    columns = json.loads(SNAPSHOT.read_text()).get(table)
    metadata = {"dagster/table_name": f"{SCHEMA}.{table}"}
    if columns:
        metadata["dagster/column_schema"] = table_schema(columns)
    return spec.merge_attributes(metadata=metadata)


def snapshot_text(schemas: dict[str, list[dict]]) -> str:
    """The snapshot as JSON, one line per column (a migration's change reads as a diff of lines)."""
    tables = [f"  {json.dumps(table)}: [\n"
              + ",\n".join(f"    {json.dumps(column, sort_keys=True)}" for column in columns) + "\n  ]"
              for table, columns in sorted(schemas.items())]
    return "{\n" + ",\n".join(tables) + "\n}\n"


def write_snapshot(database_url: str) -> dict[str, list[dict]]:
    """Migrate the database at ``database_url`` and write its tables' columns to the snapshot."""
    from analytics_pipeline.warehouse.database import connect
    from analytics_pipeline.warehouse.migrate import upgrade

    upgrade(database_url)
    with connect(database_url) as conn:
        schemas = read_table_schemas(conn, list(ASSET_TABLES.values()))
    SNAPSHOT.write_text(snapshot_text(schemas))
    return schemas


if __name__ == "__main__":  # python -m analytics_pipeline.defs.tables "$(analytics-pipeline db url)"
    written = write_snapshot(sys.argv[1])
    print(f"{SNAPSHOT}: {len(written)} tables, {sum(map(len, written.values()))} columns", file=sys.stderr)
