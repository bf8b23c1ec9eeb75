-- The SRE page: agent invocations per agent type and hour of [range_start, range_end), every organization
-- together: invocations, failures (status >= 400), server failures, exact duration percentiles.
SELECT agent_type, bucket_start, invocations, failures, server_failures, duration_p50_ms, duration_p95_ms,
       duration_p99_ms
FROM analytics_agent_hourly_metrics
WHERE organization_id IS NULL
  AND bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
ORDER BY agent_type, bucket_start
