-- Recompute analytics_hourly_rollups for the hours of [range_start, range_end) from raw events,
-- in one sorted pass: every measure, the latency percentiles and the cost come out of the same
-- GROUP BY. Run after delete_usage_rollups.sql in the same transaction.
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
--
-- The latency sketch (rollups/latency.py: counts per 2-percent bucket, merged by the daily rows and by any
-- range) comes from the same sorted rows: sorted_events is sorted once by (hour, organization, model,
-- model-less, latency bucket), and both the measures' GROUP BY and the sketch's GROUP BY ... bucket read it
-- in that order without sorting again (PostgreSQL 17+ knows a materialized CTE's order; 14-16 sort it again,
-- same answer). Measured beside a separate pass over the raw events and beside array_agg(bucket ORDER BY
-- duration_ms) cut into runs per row (README, Benchmarks): this was the cheapest in backend CPU.
-- The ordered-set percentiles still sort each group's durations inside their aggregate; they stay exact.
-- The group keys are coalesce(model_id, '') and model_id IS NULL (sortable, so the sketch's rows merge-join
-- the measures' rows): the same groups as GROUP BY model_id.
WITH
{price_periods},
sorted_events AS MATERIALIZED (
    SELECT date_bin('1 hour', event_time, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start,
           organization_id, coalesce(model_id, '') AS model_key, model_id IS NULL AS model_less,
           analytics_latency_key(duration_ms) AS latency_key,
           status_code, duration_ms,
           -- tokens_consumed alone is priced at the input rate
           coalesce(tokens_input, CASE WHEN tokens_output IS NULL THEN tokens_consumed END, 0) AS tokens_input,
           coalesce(tokens_output, 0) AS tokens_output
    FROM analytics_events
    WHERE event_time >= %(range_start)s AND event_time < %(range_end)s
    ORDER BY 1, 2, 3, 4, 5
),
hourly AS (
    SELECT bucket_start, organization_id, model_key, model_less,
           CASE WHEN NOT model_less THEN model_key END AS model_id,
           count(*) AS request_count,
           sum(tokens_input) AS tokens_input,
           sum(tokens_output) AS tokens_output,
           count(*) FILTER (WHERE status_code >= 400) AS error_count,
           count(*) FILTER (WHERE status_code >= 400 AND status_code < 500) AS client_error_count,
           count(*) FILTER (WHERE status_code >= 500) AS server_error_count,
           coalesce(sum(tokens_input) FILTER (WHERE status_code >= 500), 0) AS unbilled_tokens_input,
           coalesce(sum(tokens_output) FILTER (WHERE status_code >= 500), 0) AS unbilled_tokens_output,
           percentile_cont(0.50) WITHIN GROUP (ORDER BY duration_ms) AS latency_p50_ms,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS latency_p95_ms,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) AS latency_p99_ms
    FROM sorted_events
    GROUP BY bucket_start, organization_id, model_key, model_less
),
hourly_sketches AS (
    SELECT bucket_start, organization_id, model_key, model_less,
           array_agg(latency_key ORDER BY latency_key) AS latency_sketch_keys,
           array_agg(request_count ORDER BY latency_key) AS latency_sketch_counts
    FROM (SELECT bucket_start, organization_id, model_key, model_less, latency_key, count(*) AS request_count
          FROM sorted_events
          WHERE latency_key IS NOT NULL
          GROUP BY 1, 2, 3, 4, 5) AS buckets
    GROUP BY bucket_start, organization_id, model_key, model_less
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
    h.latency_p50_ms, h.latency_p95_ms, h.latency_p99_ms, s.latency_sketch_keys, s.latency_sketch_counts
FROM hourly AS h
LEFT JOIN hourly_sketches AS s
       ON s.bucket_start = h.bucket_start AND s.organization_id = h.organization_id
      AND s.model_key = h.model_key AND s.model_less = h.model_less
LEFT JOIN price_periods AS m
       ON m.model_id = h.model_id AND h.bucket_start >= m.effective_from AND h.bucket_start < m.effective_to
LEFT JOIN default_price_periods AS d
       ON h.bucket_start >= d.effective_from AND h.bucket_start < d.effective_to
