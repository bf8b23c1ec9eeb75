-- Per hour of [range_start, range_end), endpoint and organization, and per hour and endpoint for every
-- organization together (organization_id NULL): requests by status class, 429s, exact latency and queue-wait
-- percentiles, and error types sent on non-errors (a data-quality figure: they are stored, not counted as errors).
-- The percentiles of one column share their sort (same ordered-set input).
INSERT INTO analytics_endpoint_hourly_metrics (
    bucket_start, organization_id, endpoint, request_count, status_2xx, status_3xx, status_4xx, status_5xx,
    status_unknown, rate_limited_count, latency_p50_ms, latency_p95_ms, latency_p99_ms, queue_wait_p50_ms,
    queue_wait_p95_ms, queue_wait_p99_ms, error_types_on_non_errors)
SELECT date_bin('1 hour', event_time, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
       organization_id,
       coalesce(endpoint, '(none)') COLLATE "C",  -- bytewise: the grouping sorts skip strcoll
       count(*),
       count(*) FILTER (WHERE status_code >= 200 AND status_code < 300),
       count(*) FILTER (WHERE status_code >= 300 AND status_code < 400),
       count(*) FILTER (WHERE status_code >= 400 AND status_code < 500),
       count(*) FILTER (WHERE status_code >= 500),
       count(*) FILTER (WHERE status_code IS NULL OR status_code < 200),
       count(*) FILTER (WHERE status_code = 429),
       percentile_cont(0.50) WITHIN GROUP (ORDER BY duration_ms),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms),
       percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms),
       percentile_cont(0.50) WITHIN GROUP (ORDER BY queue_wait_ms),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY queue_wait_ms),
       percentile_cont(0.99) WITHIN GROUP (ORDER BY queue_wait_ms),
       count(*) FILTER (WHERE error_type IS NOT NULL AND (status_code IS NULL OR status_code < 400))
FROM analytics_events
WHERE event_time >= %(range_start)s AND event_time < %(range_end)s
GROUP BY GROUPING SETS ((1, 2, 3), (1, 3))
