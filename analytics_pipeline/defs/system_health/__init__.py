"""System health: CloudWatch Metric Streams objects loaded, exactly once, into the per-minute
table per service that the SRE page's panel and the platform alert rules read."""

import dagster as dg

from analytics_pipeline.defs.system_health.assets import service_minute_metrics
from analytics_pipeline.defs.system_health.sensors import metric_stream_sensor

defs = dg.Definitions(assets=[service_minute_metrics], sensors=[metric_stream_sensor])
