-- Dashboard view: performance per UTC day, organization and endpoint, from the endpoint rollups (exact daily
-- percentiles per endpoint; percentiles cannot be added up, so there is no all-endpoint latency here).
CREATE OR REPLACE VIEW analytics_view_daily_performance AS
SELECT (bucket_start AT TIME ZONE 'UTC')::date AS usage_date,
       organization_id,
       endpoint,
       request_count,
       error_count,
       client_error_count,
       server_error_count,
       rate_limited_count,
       round(100.0 * error_count / nullif(request_count, 0), 2) AS error_rate_pct,
       round(100.0 * server_error_count / nullif(request_count, 0), 2) AS server_error_rate_pct,
       round(100.0 * rate_limited_count / nullif(request_count, 0), 2) AS rate_limited_pct,
       latency_p50_ms,
       latency_p95_ms,
       latency_p99_ms,
       queue_wait_avg_ms,
       queue_wait_p95_ms
FROM analytics_endpoint_daily_rollups
