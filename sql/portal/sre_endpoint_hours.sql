-- The SRE page: every organization together, per endpoint and hour of [range_start, range_end): requests,
-- status classes, rate limiting, exact latency and queue-wait percentiles (the hourly SRE metrics).
SELECT endpoint, bucket_start, request_count, status_4xx, status_5xx, rate_limited_count,
       latency_p50_ms, latency_p95_ms, latency_p99_ms, queue_wait_p50_ms, queue_wait_p95_ms, queue_wait_p99_ms
FROM analytics_endpoint_hourly_metrics
WHERE organization_id IS NULL
  AND bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
ORDER BY endpoint, bucket_start
