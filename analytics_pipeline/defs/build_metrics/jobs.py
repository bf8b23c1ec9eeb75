"""The job the build-metrics sensor launches: a day's run files, then that day's trends and checks."""

import dagster as dg

from analytics_pipeline.defs.build_metrics.assets import ci_build_runs, ci_duration_trends

build_metrics_job = dg.define_asset_job(
    "build_metrics_job",
    selection=[ci_build_runs, ci_duration_trends],
    description="Load CI run files into analytics_ci_runs, then recompute the day's duration trends and "
                "run the regression and budget checks.",
)
