-- The SRE page: every organization together, per endpoint over [range_start, range_end): requests, status
-- classes, rate limiting, and the highest hour's exact latency and queue-wait percentiles (percentiles of
-- different hours cannot be added up). The busiest endpoint first.
SELECT endpoint,
       sum(request_count)::bigint AS request_count,
       sum(status_4xx)::bigint AS status_4xx,
       sum(status_5xx)::bigint AS status_5xx,
       sum(rate_limited_count)::bigint AS rate_limited_count,
       max(latency_p50_ms) AS latency_p50_ms,
       max(latency_p95_ms) AS latency_p95_ms,
       max(latency_p99_ms) AS latency_p99_ms,
       max(queue_wait_p50_ms) AS queue_wait_p50_ms,
       max(queue_wait_p95_ms) AS queue_wait_p95_ms,
       max(queue_wait_p99_ms) AS queue_wait_p99_ms
FROM analytics_endpoint_hourly_metrics
WHERE organization_id IS NULL
  AND bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
GROUP BY endpoint
ORDER BY sum(request_count) DESC, endpoint
