"""``service_minute_metrics``: a table the metric-stream sensor loads itself (an external asset)."""

import dagster as dg

SERVICE_MINUTE_METRICS = dg.AssetKey("service_minute_metrics")

service_minute_metrics = dg.AssetSpec(
    SERVICE_MINUTE_METRICS,
    group_name="system_health",
    kinds={"postgres", "s3"},
    description="analytics_service_minute_metrics: one row per minute, CloudWatch namespace, service (named from "
                "its dimensions) and metric, with the minute's max, min, sum and count, loaded from the CloudWatch "
                "Metric Streams objects Firehose delivers (ANALYTICS_METRIC_STREAMS_URL) by metric_stream_sensor, "
                "each object once (ledger: analytics_metric_stream_objects). Read by the SRE page's system-health "
                "panel and the platform alert rules of kind service_metric_above.",
)
