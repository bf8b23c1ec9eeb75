-- Recompute the usage rollup rows of buckets in [range_start, range_end) from raw events.
-- {rollup_table} and {bucket} are fixed by the caller (hourly or daily), never user input.
-- Run after delete_usage_rollups.sql in the same transaction: a partition is replaced whole.
WITH
{priced_events}
INSERT INTO {rollup_table} (
    bucket_start, organization_id, model_id, request_count, tokens_input, tokens_output, tokens_total,
    error_count, client_error_count, server_error_count, cost_total,
    latency_p50_ms, latency_p95_ms, latency_p99_ms)
SELECT
    date_trunc('{bucket}', event_time) AS bucket_start,
    organization_id,
    model_id,
    count(*),
    sum(tokens_input),
    sum(tokens_output),
    sum(tokens_input + tokens_output),
    count(*) FILTER (WHERE status_code >= 400),
    count(*) FILTER (WHERE status_code >= 400 AND status_code < 500),
    count(*) FILTER (WHERE status_code >= 500),
    sum(cost),
    percentile_cont(0.50) WITHIN GROUP (ORDER BY duration_ms),
    percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms),
    percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms)
FROM priced_events
GROUP BY 1, 2, 3
