-- Developer dashboard (the memo's section 4: API performance, latency and errors): per UTC hour and endpoint,
-- for every organization together (organization_id NULL, scope 'all organizations') and per organization,
-- requests, error rates by status class (4xx, 5xx, 429), exact p50/p95/p99 latency and queue wait, and the
-- errors by error_type as a JSON object. (System health, CPU and memory come from CloudWatch, not from here.)
CREATE OR REPLACE VIEW analytics_view_developer_dashboard AS
WITH error_types AS (
    SELECT bucket_start, organization_id, endpoint,
           jsonb_object_agg(status_class || ' ' || error_type, error_count ORDER BY error_count DESC) AS errors
    FROM analytics_error_type_hourly
    GROUP BY bucket_start, organization_id, endpoint
)
SELECT m.bucket_start,
       coalesce(m.organization_id, 'all organizations') AS scope,
       m.organization_id,
       m.endpoint,
       m.request_count,
       m.status_2xx,
       m.status_4xx,
       m.status_5xx,
       m.rate_limited_count,
       round(100.0 * (m.status_4xx + m.status_5xx) / nullif(m.request_count, 0), 3) AS error_rate_pct,
       round(100.0 * m.status_4xx / nullif(m.request_count, 0), 3) AS client_error_rate_pct,
       round(100.0 * m.status_5xx / nullif(m.request_count, 0), 3) AS server_error_rate_pct,
       round(100.0 * m.rate_limited_count / nullif(m.request_count, 0), 3) AS rate_limited_pct,
       m.latency_p50_ms,
       m.latency_p95_ms,
       m.latency_p99_ms,
       m.queue_wait_p50_ms,
       m.queue_wait_p95_ms,
       m.queue_wait_p99_ms,
       coalesce(e.errors, jsonb_build_object()) AS errors_by_type
FROM analytics_endpoint_hourly_metrics AS m
LEFT JOIN error_types AS e
       ON e.bucket_start = m.bucket_start AND e.endpoint = m.endpoint
      AND e.organization_id IS NOT DISTINCT FROM m.organization_id
