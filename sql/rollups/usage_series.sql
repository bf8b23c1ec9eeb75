-- One organization's rollup rows of [range_start, range_end), per bucket and model, for the
-- export API's usage series. {rollup_table} is fixed by the caller from the granularity.
SELECT bucket_start, model_id, request_count, tokens_input, tokens_output, tokens_total, error_count, cost_total,
       latency_p50_ms, latency_p95_ms, latency_p99_ms
FROM {rollup_table}
WHERE organization_id = %(organization_id)s
  AND bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
ORDER BY bucket_start, model_id NULLS FIRST
