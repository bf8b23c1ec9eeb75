-- Per (day, organization, endpoint) performance for SRE, from the raw events of
-- [range_start, range_end). Run after delete_endpoint_rollups.sql in the same transaction.
INSERT INTO analytics_endpoint_daily_rollups (
    bucket_start, organization_id, endpoint, request_count, error_count, client_error_count,
    server_error_count, rate_limited_count, latency_p50_ms, latency_p95_ms, latency_p99_ms,
    queue_wait_avg_ms, queue_wait_p95_ms)
SELECT date_trunc('day', event_time),
       organization_id,
       coalesce(endpoint, '(none)'),
       count(*),
       count(*) FILTER (WHERE status_code >= 400),
       count(*) FILTER (WHERE status_code >= 400 AND status_code < 500),
       count(*) FILTER (WHERE status_code >= 500),
       count(*) FILTER (WHERE status_code = 429),
       percentile_cont(0.50) WITHIN GROUP (ORDER BY duration_ms),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms),
       percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms),
       avg(queue_wait_ms),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY queue_wait_ms)
FROM analytics_events
WHERE event_time >= %(range_start)s AND event_time < %(range_end)s
GROUP BY 1, 2, 3
