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
-- The join keys are coalesce(model_id, '') and model_id IS NULL, so the planner can hash or merge them: the
-- same groups as GROUP BY model_id. The sketches are unnested in the select list (one ProjectSet),
-- not by a lateral function scan per hourly row: measured cheaper (README, Benchmarks).
WITH
day_totals AS (
    SELECT date_bin('1 day', bucket_start, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start,
           organization_id AS organization_id, coalesce(model_id, '') AS model_key, model_id IS NULL AS model_less,
           sum(request_count)::bigint AS request_count, sum(tokens_input)::bigint AS tokens_input,
           sum(tokens_output)::bigint AS tokens_output, sum(tokens_total)::bigint AS tokens_total,
           sum(error_count)::bigint AS error_count, sum(client_error_count)::bigint AS client_error_count,
           sum(server_error_count)::bigint AS server_error_count, sum(cost_total) AS cost_total
    FROM analytics_hourly_rollups
    WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
    GROUP BY 1, 2, 3, 4
),
day_buckets AS (
    SELECT bucket_start, organization_id, model_key, model_less, latency_key,
           sum(request_count)::bigint AS request_count
    FROM (SELECT date_bin('1 day', bucket_start, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start,
                 organization_id, coalesce(model_id, '') AS model_key, model_id IS NULL AS model_less,
                 -- two set-returning calls in the select list run in step, like unnest(keys, counts)
                 unnest(latency_sketch_keys) AS latency_key, unnest(latency_sketch_counts) AS request_count
          FROM analytics_hourly_rollups
          WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
          -- sorted here, the buckets group and the running counts follow without another sort; left to
          -- itself the planner hashed them, then sorted the groups again; this way takes 18 percent less CPU (README)
          ORDER BY 1, 2, 3, 4, 5) AS hour_buckets
    GROUP BY 1, 2, 3, 4, 5
),
running_buckets AS (
    SELECT bucket_start, organization_id, model_key, model_less, latency_key, request_count,
           (sum(request_count) OVER (PARTITION BY bucket_start, organization_id, model_key, model_less
                                     ORDER BY latency_key))::bigint AS running,
           (sum(request_count) OVER (PARTITION BY bucket_start, organization_id, model_key, model_less))::bigint AS total
    FROM day_buckets
),
day_sketches AS (
    SELECT bucket_start, organization_id, model_key, model_less,
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
    GROUP BY bucket_start, organization_id, model_key, model_less
)
INSERT INTO analytics_daily_rollups (
    bucket_start, organization_id, model_id, request_count, tokens_input, tokens_output, tokens_total,
    error_count, client_error_count, server_error_count, cost_total,
    latency_p50_ms, latency_p95_ms, latency_p99_ms, latency_sketch_keys, latency_sketch_counts)
SELECT t.bucket_start, t.organization_id, CASE WHEN NOT t.model_less THEN t.model_key END, t.request_count,
       t.tokens_input, t.tokens_output, t.tokens_total, t.error_count, t.client_error_count, t.server_error_count, t.cost_total,
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
      AND s.model_key = t.model_key AND s.model_less = t.model_less
