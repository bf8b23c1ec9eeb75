-- The SRE page: agent invocations per agent type over [range_start, range_end), every organization together:
-- invocations, failures (status >= 400), server failures, and the highest hour's exact duration percentiles.
SELECT agent_type,
       sum(invocations)::bigint AS invocations,
       sum(failures)::bigint AS failures,
       sum(server_failures)::bigint AS server_failures,
       max(duration_p50_ms) AS duration_p50_ms,
       max(duration_p95_ms) AS duration_p95_ms,
       max(duration_p99_ms) AS duration_p99_ms
FROM analytics_agent_hourly_metrics
WHERE organization_id IS NULL
  AND bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
GROUP BY agent_type
ORDER BY sum(invocations) DESC, agent_type
