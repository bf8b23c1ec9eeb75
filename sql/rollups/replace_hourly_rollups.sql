-- Recompute analytics_hourly_rollups for the hours of [range_start, range_end) from raw events,
-- in one sort: every measure, the exact latency percentiles, the latency sketch and the cost come out of
-- one pass over the events sorted by (hour, organization, model, model-less, latency bucket, duration).
-- Run after delete_usage_rollups.sql in the same transaction.
--
-- Cost is priced per group, not per event: price changes are on the hour (the catalog and a
-- CHECK constraint enforce it), so one price holds for a whole (hour, model) group, and
--   sum over events of (per_request + in/1000 x in_price + out/1000 x out_price)
--   = billable_requests x per_request + billable_in/1000 x in_price + billable_out/1000 x out_price
-- exactly, in numeric. Requests with status >= 500 are not billable. A group without a price in
-- effect would get a NULL cost, which the NOT NULL column refuses: the caller checks first
-- (refuse_unpriced_events) and fails with the models and times instead. Thousandths are taken with
-- `* 0.001`, which is exact; numeric `/ 1000` rounds to ~16 significant digits on large sums.
-- date_bin buckets with integer arithmetic (date_trunc goes through the calendar); in UTC the
-- buckets are the same. The id columns are COLLATE "C" (migration 0006): the sort compares bytes.
-- The group keys are coalesce(model_id, '') and model_id IS NULL: the same groups as GROUP BY model_id
-- ("" and a missing model apart), as sort keys.
--
-- Why one sort (README, Benchmarks: measured in backend CPU against percentile_cont plus a second grouped
-- pass for the sketch): the bucket is a non-decreasing function of the duration, so the events sorted by
-- (group, bucket, duration) are sorted by duration within each group. One window over (group, bucket)
-- counts each bucket and marks its first event; the GROUP BY above it reads the same sorted rows, so
--   * the sketch is the buckets' first events' (key, count), collected in key order;
--   * the durations are collected in ascending order, and p50/p95/p99 are read off that array with
--     percentile_cont's own arithmetic: position p (n - 1) as a double, the values of ranks floor and ceil
--     of it, lo + (hi - lo) x (position - floor), lo alone when the two ranks are one. The same doubles
--     as percentile_cont (orderedsetaggs.c), without one sort per group inside the aggregate.
-- NULL durations (the contract allows none) count as requests but in no percentile and no bucket.
WITH
{price_periods},
bucketed_events AS (
    SELECT bucket_start, organization_id, model_key, model_less, latency_key, duration_ms,
           status_code, tokens_input, tokens_output,
           row_number() OVER latency_bucket = 1 AS first_of_bucket,
           count(*) OVER latency_bucket AS bucket_requests
    FROM (SELECT date_bin('1 hour', event_time, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start,
                 organization_id, coalesce(model_id, '') AS model_key, model_id IS NULL AS model_less,
                 analytics_latency_key(duration_ms) AS latency_key, duration_ms, status_code,
                 -- tokens_consumed alone is priced at the input rate
                 coalesce(tokens_input, CASE WHEN tokens_output IS NULL THEN tokens_consumed END, 0) AS tokens_input,
                 coalesce(tokens_output, 0) AS tokens_output
          FROM analytics_events
          WHERE event_time >= %(range_start)s AND event_time < %(range_end)s) AS events
    WINDOW latency_bucket AS (PARTITION BY bucket_start, organization_id, model_key, model_less, latency_key
                              ORDER BY duration_ms ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
),
hourly AS (
    SELECT bucket_start, organization_id, CASE WHEN NOT model_less THEN model_key END AS model_id,
           count(*) AS request_count,
           sum(tokens_input) AS tokens_input,
           sum(tokens_output) AS tokens_output,
           count(*) FILTER (WHERE status_code >= 400) AS error_count,
           count(*) FILTER (WHERE status_code >= 400 AND status_code < 500) AS client_error_count,
           count(*) FILTER (WHERE status_code >= 500) AS server_error_count,
           coalesce(sum(tokens_input) FILTER (WHERE status_code >= 500), 0) AS unbilled_tokens_input,
           coalesce(sum(tokens_output) FILTER (WHERE status_code >= 500), 0) AS unbilled_tokens_output,
           -- in the input's order: ascending durations, ascending keys (the window's sort)
           array_agg(duration_ms) FILTER (WHERE duration_ms IS NOT NULL) AS durations,
           array_agg(latency_key) FILTER (WHERE first_of_bucket AND latency_key IS NOT NULL) AS latency_sketch_keys,
           array_agg(bucket_requests) FILTER (WHERE first_of_bucket AND latency_key IS NOT NULL) AS latency_sketch_counts
    FROM bucketed_events
    GROUP BY bucket_start, organization_id, model_key, model_less
),
positions AS (
    SELECT h.*, 0.50::double precision * (cardinality(durations) - 1) AS p50_position,
           0.95::double precision * (cardinality(durations) - 1) AS p95_position,
           0.99::double precision * (cardinality(durations) - 1) AS p99_position
    FROM hourly AS h
)
INSERT INTO analytics_hourly_rollups (
    bucket_start, organization_id, model_id, request_count, tokens_input, tokens_output, tokens_total,
    error_count, client_error_count, server_error_count, cost_total,
    latency_p50_ms, latency_p95_ms, latency_p99_ms, latency_sketch_keys, latency_sketch_counts)
SELECT
    h.bucket_start, h.organization_id, h.model_id, h.request_count, h.tokens_input, h.tokens_output,
    h.tokens_input + h.tokens_output, h.error_count, h.client_error_count, h.server_error_count,
    trim_scale(
        (h.request_count - h.server_error_count) * coalesce(m.price_per_request, d.price_per_request)
        + (h.tokens_input - h.unbilled_tokens_input)
          * coalesce(m.price_per_1k_input_tokens, d.price_per_1k_input_tokens) * 0.001
        + (h.tokens_output - h.unbilled_tokens_output)
          * coalesce(m.price_per_1k_output_tokens, d.price_per_1k_output_tokens) * 0.001),
    CASE WHEN floor(h.p50_position) = ceil(h.p50_position) THEN h.durations[floor(h.p50_position)::int + 1]
         ELSE h.durations[floor(h.p50_position)::int + 1]
              + (h.durations[ceil(h.p50_position)::int + 1] - h.durations[floor(h.p50_position)::int + 1])
                * (h.p50_position - floor(h.p50_position)) END,
    CASE WHEN floor(h.p95_position) = ceil(h.p95_position) THEN h.durations[floor(h.p95_position)::int + 1]
         ELSE h.durations[floor(h.p95_position)::int + 1]
              + (h.durations[ceil(h.p95_position)::int + 1] - h.durations[floor(h.p95_position)::int + 1])
                * (h.p95_position - floor(h.p95_position)) END,
    CASE WHEN floor(h.p99_position) = ceil(h.p99_position) THEN h.durations[floor(h.p99_position)::int + 1]
         ELSE h.durations[floor(h.p99_position)::int + 1]
              + (h.durations[ceil(h.p99_position)::int + 1] - h.durations[floor(h.p99_position)::int + 1])
                * (h.p99_position - floor(h.p99_position)) END,
    h.latency_sketch_keys, h.latency_sketch_counts
FROM positions AS h
LEFT JOIN price_periods AS m
       ON m.model_id = h.model_id AND h.bucket_start >= m.effective_from AND h.bucket_start < m.effective_to
LEFT JOIN default_price_periods AS d
       ON h.bucket_start >= d.effective_from AND h.bucket_start < d.effective_to
