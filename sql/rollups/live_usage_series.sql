-- One organization's usage of [range_start, range_end) (buckets the rollups have not reached yet)
-- straight from its raw events, per bucket ({bucket}: hour or day) and model, in the columns of
-- usage_series.sql: provisional figures, priced as the rollups price them (priced_events.sql: an
-- event without a price in effect makes its bucket's cost NULL, never zero). The organization
-- filter reaches analytics_events through the inlined CTE: its (organization_id, event_time) index.
WITH
{priced_events}
SELECT date_bin(CASE WHEN {bucket} = 'hour' THEN INTERVAL '1 hour' ELSE INTERVAL '1 day' END, event_time,
                TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start,
       model_id,
       count(*)::bigint AS request_count,
       sum(tokens_input)::bigint AS tokens_input,
       sum(tokens_output)::bigint AS tokens_output,
       sum(tokens_input + tokens_output)::bigint AS tokens_total,
       count(*) FILTER (WHERE status_code >= 400)::bigint AS error_count,
       trim_scale(sum(cost)) AS cost_total,
       percentile_cont(0.50) WITHIN GROUP (ORDER BY duration_ms) AS latency_p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS latency_p95_ms,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) AS latency_p99_ms
FROM priced_events
WHERE organization_id = %(organization_id)s
GROUP BY 1, 2
ORDER BY 1, 2 NULLS FIRST
