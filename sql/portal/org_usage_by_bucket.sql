-- One organization's usage per bucket of [range_start, range_end), every model together, from {rollup_table}
-- (the hourly or the daily rollups, fixed by the caller), in the rollups' row (rollups.usage.UsageRow): the model
-- and the latencies are NULL, the rows being every model together.
SELECT bucket_start,
       NULL::text AS model_id,
       sum(request_count)::bigint AS request_count,
       sum(tokens_input)::bigint AS tokens_input,
       sum(tokens_output)::bigint AS tokens_output,
       sum(tokens_total)::bigint AS tokens_total,
       sum(error_count)::bigint AS error_count,
       sum(cost_total) AS cost_total,
       NULL::double precision AS latency_p50_ms,
       NULL::double precision AS latency_p95_ms,
       NULL::double precision AS latency_p99_ms
FROM {rollup_table}
WHERE organization_id = %(organization_id)s
  AND bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
GROUP BY bucket_start
ORDER BY bucket_start
