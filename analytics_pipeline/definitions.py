"""The Dagster definitions of analytics_pipeline (``analytics_pipeline.definitions:defs``).

The composition root: every domain registers its own ``dg.Definitions`` in
``defs/<domain>/__init__.py``; here they are merged with the resources, which are built from
the settings read once (:func:`resources_from_settings`).
"""

import dagster as dg
from dagster_aws.s3 import S3Resource
from dagster_shared.record import replace

from analytics_pipeline.defs import (
    alerts,
    build_metrics,
    costs,
    exports,
    ingestion,
    metrics,
    retention,
    rollups,
    system_health,
)
from analytics_pipeline.defs.alerts.resources import AlertSettings
from analytics_pipeline.defs.costs.resources import CostExplorerResource, CostSettings
from analytics_pipeline.defs.ingestion.resources import IngestionSettings
from analytics_pipeline.defs.jobs import pipeline_jobs
from analytics_pipeline.defs.metrics.resources import MetricsSettings
from analytics_pipeline.defs.resources import (
    BudgetSettings,
    ClockResource,
    ObjectStorageResource,
    RetentionSettings,
    WarehouseResource,
)
from analytics_pipeline.defs.rollups.resources import RollupSettings
from analytics_pipeline.defs.tables import describe_tables
from analytics_pipeline.settings import Settings, current_settings

#: Every domain, in the order data flows through them.
DOMAINS = (ingestion, rollups, exports, costs, metrics, build_metrics, system_health, alerts, retention)


def resources_from_settings(settings: Settings, s3: S3Resource | None = None) -> dict[str, object]:
    """The resources the definitions run with, every setting field from ``settings``; ``s3`` configures
    the S3 client (by default the standard AWS chain, with ``AWS_ENDPOINT_URL`` and friends)."""
    budget_settings = BudgetSettings.from_settings(settings)
    return {
        "warehouse": WarehouseResource.from_settings(settings, embedded_pgdata=str(settings.embedded_pgdata)),
        "object_storage": ObjectStorageResource.from_settings(settings, s3=s3 or S3Resource(max_attempts=5)),
        "clock": ClockResource(),
        "cost_explorer": CostExplorerResource(),
        "ingestion_settings": IngestionSettings.from_settings(settings),
        "rollup_settings": RollupSettings.from_settings(settings),
        "cost_settings": CostSettings.from_settings(settings),
        "budget_settings": budget_settings,
        "metrics_settings": MetricsSettings.from_settings(settings, budget_settings=budget_settings),
        "alert_settings": AlertSettings.from_settings(settings),
        "retention_settings": RetentionSettings.from_settings(settings),
    }


# One process per run: a run's steps (an asset and its checks, a few assets) execute in the run's
# process, one after the other. A step in a subprocess of its own costs 1.5-5 s of interpreter and
# imports before its query starts; parallelism comes from running many runs at once instead.
def _definitions() -> dg.Definitions:
    """Every domain's definitions with the resources; every asset linked to its code (file and line:
    the UI's "open in editor"; link_code_references_to_git needs the repository's URL and branch,
    which this repository does not name) and describing the table it writes: `dagster/table_name`
    and its columns as the migrations made them (defs/tables.py)."""
    merged = dg.Definitions.merge(
        *(domain.defs for domain in DOMAINS),
        dg.Definitions(resources=resources_from_settings(current_settings()), executor=dg.in_process_executor),
    )
    # The pipeline's jobs (one per partitioning), which the demo's runs are launched as: named in the UI.
    merged = dg.Definitions.merge(merged, dg.Definitions(jobs=pipeline_jobs(merged)))
    linked = replace(merged, assets=dg.with_source_code_references(list(merged.assets or ())))
    return linked.map_asset_specs(func=describe_tables)


defs = _definitions()
