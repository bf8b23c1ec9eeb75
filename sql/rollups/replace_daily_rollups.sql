-- Recompute analytics_daily_rollups for the days of [range_start, range_end). Run after
-- delete_usage_rollups.sql in the same transaction, and after the day's hourly rollups:
--   * additive measures (requests, tokens, errors, cost) are the sums of the day's hourly rows,
--     so a day always equals its hours, including cost across a mid-day price change;
--   * latency percentiles are true daily percentiles, one exact pass over the day's raw events
--     (never averages of hourly ones).
-- The join keys use coalesce(model_id, '') so the planner can hash or merge them.
WITH
day_totals AS (
    SELECT date_bin('1 day', bucket_start, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start,
           organization_id AS organization_id, model_id AS model_id,
           sum(request_count)::bigint AS request_count, sum(tokens_input)::bigint AS tokens_input,
           sum(tokens_output)::bigint AS tokens_output, sum(tokens_total)::bigint AS tokens_total,
           sum(error_count)::bigint AS error_count, sum(client_error_count)::bigint AS client_error_count,
           sum(server_error_count)::bigint AS server_error_count, sum(cost_total) AS cost_total
    FROM analytics_hourly_rollups
    WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
    GROUP BY 1, 2, 3
),
day_latency AS (
    SELECT date_bin('1 day', event_time, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start,
           organization_id AS organization_id, coalesce(model_id, '') AS model_key,
           percentile_cont(0.50) WITHIN GROUP (ORDER BY duration_ms) AS latency_p50_ms,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS latency_p95_ms,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) AS latency_p99_ms
    FROM analytics_events
    WHERE event_time >= %(range_start)s AND event_time < %(range_end)s
    GROUP BY 1, 2, 3
)
INSERT INTO analytics_daily_rollups (
    bucket_start, organization_id, model_id, request_count, tokens_input, tokens_output, tokens_total,
    error_count, client_error_count, server_error_count, cost_total,
    latency_p50_ms, latency_p95_ms, latency_p99_ms)
SELECT t.bucket_start, t.organization_id, t.model_id, t.request_count, t.tokens_input, t.tokens_output,
       t.tokens_total, t.error_count, t.client_error_count, t.server_error_count, t.cost_total,
       l.latency_p50_ms, l.latency_p95_ms, l.latency_p99_ms
FROM day_totals AS t
LEFT JOIN day_latency AS l
       ON l.bucket_start = t.bucket_start AND l.organization_id = t.organization_id
      AND l.model_key = coalesce(t.model_id, '')
