"""Retention (archive, drop, delete, prune): the Dagster wiring of ``analytics_pipeline.retention``."""

import dagster as dg

from analytics_pipeline.defs.retention.jobs import retention_job
from analytics_pipeline.defs.retention.schedules import retention_schedule

defs = dg.Definitions(jobs=[retention_job], schedules=[retention_schedule])
