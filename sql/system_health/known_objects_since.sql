-- Metric-stream objects the ledger already holds among those delivered since a time.
SELECT object_key, etag
FROM analytics_metric_stream_objects
WHERE delivery_hour >= %(since)s
