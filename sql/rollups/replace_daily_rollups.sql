-- Recompute analytics_daily_rollups for the days of [range_start, range_end). Run after
-- delete_usage_rollups.sql in the same transaction, and after the day's hourly rollups:
--   * additive measures (requests, tokens, errors, cost) are the sums of the day's hourly rows,
--     so a day always equals its hours, including cost across a mid-day price change;
--   * the latency sketch is the hourly sketches merged (counts added per bucket), and the daily
--     percentiles are read off it with percentile_cont's definition (within 1 percent of the exact
--     daily percentile; rollups/latency.py). The raw events are not read.
-- The percentiles are read set-based, in the pass that builds the arrays: the request of rank k lies in
-- the first bucket whose running count exceeds k, so ranks floor and ceil of position = fraction x (n - 1)
-- are min(key) FILTER (WHERE running > rank). (analytics_latency_percentiles reads them the same way for one
-- sketch at a time, for the range queries; called per row here it would cost a plan per row.)
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
day_buckets AS (
    SELECT date_bin('1 day', h.bucket_start, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start,
           h.organization_id, coalesce(h.model_id, '') AS model_key, b.latency_key,
           sum(b.request_count)::bigint AS request_count
    FROM analytics_hourly_rollups AS h
    CROSS JOIN LATERAL unnest(h.latency_sketch_keys, h.latency_sketch_counts) AS b(latency_key, request_count)
    WHERE h.bucket_start >= %(range_start)s AND h.bucket_start < %(range_end)s
    GROUP BY 1, 2, 3, 4
),
running_buckets AS (
    SELECT bucket_start, organization_id, model_key, latency_key, request_count,
           (sum(request_count) OVER (PARTITION BY bucket_start, organization_id, model_key
                                     ORDER BY latency_key))::bigint AS running,
           (sum(request_count) OVER (PARTITION BY bucket_start, organization_id, model_key))::bigint AS total
    FROM day_buckets
),
day_sketches AS (
    SELECT bucket_start, organization_id, model_key,
           array_agg(latency_key ORDER BY latency_key) AS latency_sketch_keys,
           array_agg(request_count ORDER BY latency_key) AS latency_sketch_counts,
           0.50 * (max(total) - 1)::double precision AS p50_position,
           0.95 * (max(total) - 1)::double precision AS p95_position,
           0.99 * (max(total) - 1)::double precision AS p99_position,
           min(latency_key) FILTER (WHERE running > floor(0.50 * (total - 1)::double precision)) AS p50_low,
           min(latency_key) FILTER (WHERE running > ceil(0.50 * (total - 1)::double precision)) AS p50_high,
           min(latency_key) FILTER (WHERE running > floor(0.95 * (total - 1)::double precision)) AS p95_low,
           min(latency_key) FILTER (WHERE running > ceil(0.95 * (total - 1)::double precision)) AS p95_high,
           min(latency_key) FILTER (WHERE running > floor(0.99 * (total - 1)::double precision)) AS p99_low,
           min(latency_key) FILTER (WHERE running > ceil(0.99 * (total - 1)::double precision)) AS p99_high
    FROM running_buckets
    GROUP BY bucket_start, organization_id, model_key
)
INSERT INTO analytics_daily_rollups (
    bucket_start, organization_id, model_id, request_count, tokens_input, tokens_output, tokens_total,
    error_count, client_error_count, server_error_count, cost_total,
    latency_p50_ms, latency_p95_ms, latency_p99_ms, latency_sketch_keys, latency_sketch_counts)
SELECT t.bucket_start, t.organization_id, t.model_id, t.request_count, t.tokens_input, t.tokens_output,
       t.tokens_total, t.error_count, t.client_error_count, t.server_error_count, t.cost_total,
       analytics_latency_value(s.p50_low) + (analytics_latency_value(s.p50_high) - analytics_latency_value(s.p50_low))
           * (s.p50_position - floor(s.p50_position)),
       analytics_latency_value(s.p95_low) + (analytics_latency_value(s.p95_high) - analytics_latency_value(s.p95_low))
           * (s.p95_position - floor(s.p95_position)),
       analytics_latency_value(s.p99_low) + (analytics_latency_value(s.p99_high) - analytics_latency_value(s.p99_low))
           * (s.p99_position - floor(s.p99_position)),
       s.latency_sketch_keys, s.latency_sketch_counts
FROM day_totals AS t
LEFT JOIN day_sketches AS s
       ON s.bucket_start = t.bucket_start AND s.organization_id = t.organization_id
      AND s.model_key = coalesce(t.model_id, '')
