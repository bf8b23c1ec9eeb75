"""Retention (archive, drop, delete, prune): the Dagster wiring of ``analytics_pipeline.retention``.

``analytics_pipeline/definitions.py`` adds these lists.
"""

from analytics_pipeline.defs.retention.jobs import retention_job
from analytics_pipeline.defs.retention.schedules import retention_schedule

RETENTION_JOBS = [retention_job]
RETENTION_SCHEDULES = [retention_schedule]
