"""The Dagster definitions of analytics_pipeline (``analytics_pipeline.definitions:defs``).

The composition root: every domain registers its own ``dg.Definitions`` in
``defs/<domain>/__init__.py``; here they are merged with the resources, which are built from
the settings read once (:func:`resources_from_settings`).
"""

import os

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
    ClockResource,
    RetentionSettings,
    WarehouseResource,
    object_storage_from_settings,
)
from analytics_pipeline.defs.rollups.resources import RollupSettings
from analytics_pipeline.defs.tables import describe_tables
from analytics_pipeline.settings import Settings, current_settings, setting_variables

#: Every domain, in the order data flows through them.
DOMAINS = (ingestion, rollups, exports, costs, metrics, build_metrics, system_health, alerts, retention)


def _secret(settings: Settings, name: str) -> str | dg.EnvVar | None:
    """A secret setting as a ``dg.EnvVar`` when it comes from the process environment (the UI
    then names the variable, never the value), else its value (tests pass their own)."""
    value = getattr(settings, name)
    variable = setting_variables()[name]
    if value is not None and os.environ.get(variable, "").strip() == value:
        return dg.EnvVar(variable)
    return value


def resources_from_settings(settings: Settings, s3: S3Resource | None = None) -> dict[str, object]:
    """The resources the definitions run with, every field from ``settings``; ``s3`` configures
    the S3 client (by default the standard AWS chain, with ``AWS_ENDPOINT_URL`` and friends)."""
    return {
        "warehouse": WarehouseResource(database_url=_secret(settings, "database_url"),
                                       embedded_pgdata=str(settings.embedded_pgdata)),
        "object_storage": object_storage_from_settings(settings, s3),
        "clock": ClockResource(),
        "cost_explorer": CostExplorerResource(),
        "ingestion_settings": IngestionSettings.from_settings(settings),
        "rollup_settings": RollupSettings.from_settings(settings),
        "cost_settings": CostSettings.from_settings(settings),
        "metrics_settings": MetricsSettings.from_settings(settings),
        "alert_settings": AlertSettings(webhook_url=_secret(settings, "alert_webhook_url"),
                                        dagster_ui_url=settings.dagster_ui_url,
                                        rules_file=settings.alert_rules_file,
                                        pagerduty_routing_key=_secret(settings, "pagerduty_routing_key"),
                                        pagerduty_events_url=settings.pagerduty_events_url),
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
