-- The SRE page's charts: every organization together, per endpoint and hour of [range_start, range_end):
-- requests, 4xx, 5xx and the hour's exact p95 latency (the hourly SRE metrics).
SELECT endpoint, bucket_start, request_count, status_4xx, status_5xx, latency_p95_ms
FROM analytics_endpoint_hourly_metrics
WHERE organization_id IS NULL
  AND bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
ORDER BY endpoint, bucket_start
