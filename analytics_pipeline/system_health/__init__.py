"""System health: the platform's own CPU, memory, connections, requests and 5xx, from CloudWatch
Metric Streams objects (JSON lines, delivered by Firehose to S3), loaded exactly once into a
per-minute table per service. Pure (no Dagster); the sensor in ``defs/system_health`` drives it,
the SRE page and the alert rules read its table."""
