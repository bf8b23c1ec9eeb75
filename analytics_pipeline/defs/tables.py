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
from pathlib import Path

import dagster as dg
import psycopg

from analytics_pipeline.warehouse.database import SCHEMA
from analytics_pipeline.warehouse.sql import load_sql

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
