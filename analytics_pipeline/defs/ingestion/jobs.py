"""The ingestion domain's jobs: the freshness checks of the pipeline, evaluated on their own."""

import dagster as dg

from analytics_pipeline.defs.shared import FRESHNESS_CHECKS

freshness_checks_job = dg.define_asset_job(
    "freshness_checks_job", selection=dg.AssetSelection.checks(*FRESHNESS_CHECKS),
    description="Evaluate the data freshness checks of the raw events and the hourly rollups (no materialization).")
