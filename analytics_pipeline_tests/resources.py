"""The pipeline's resources for a test: built the way the definitions build them (from
settings), pointed at the test's warehouse, object stores and, when given, a frozen clock."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from dagster_aws.s3 import S3Resource

from analytics_pipeline.definitions import resources_from_settings
from analytics_pipeline.defs.costs.resources import CostExplorerResource
from analytics_pipeline.defs.resources import ClockResource
from analytics_pipeline.settings import Settings, load_settings

STORES = {"logs_url": "logs", "exports_url": "exports", "archive_url": "archive", "focus_costs_url": "focus",
          "build_metrics_url": "build-metrics", "metric_streams_url": "metric-streams"}


def frozen_clock(now: datetime) -> ClockResource:
    return ClockResource(frozen_at=now.isoformat())


def pipeline_resources(warehouse_url: str, store_root: str, *, s3_endpoint: str | None = None,
                       now: datetime | None = None, environ: dict[str, str] | None = None,
                       **overrides) -> dict[str, object]:
    """Every resource of the definitions: the warehouse at ``warehouse_url``; the object stores
    under ``store_root`` (``s3://bucket`` or a directory: ``logs``, ``exports``, ``archive``,
    ``focus``, ``build-metrics``), on the S3 endpoint ``s3_endpoint`` when given; settings from
    ``environ`` (the variables a test sets, nothing from the process); ``now`` freezes the clock;
    ``overrides`` replace single resources or store locations (``exports_url=...``)."""
    root = store_root.rstrip("/")
    stores = {name: overrides.pop(name, f"{root}/{sub}") for name, sub in STORES.items()}
    settings: Settings = dataclasses.replace(load_settings(environ or {}), database_url=warehouse_url, **stores)
    s3 = S3Resource(endpoint_url=s3_endpoint, region_name="us-east-1") if s3_endpoint else S3Resource()
    resources = resources_from_settings(settings, s3=s3)
    if s3_endpoint:
        resources["cost_explorer"] = CostExplorerResource(endpoint_url=s3_endpoint)
    if now is not None:
        resources["clock"] = frozen_clock(now)
    resources.update(overrides)
    return resources
