-- Per agent type over [range_start, range_end), every organization together: invocations, failures, and the
-- highest hourly p95 duration.
SELECT agent_type, sum(invocations)::bigint, sum(failures)::bigint, max(duration_p95_ms)
FROM analytics_agent_hourly_metrics
WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s AND organization_id IS NULL
GROUP BY agent_type
ORDER BY 2 DESC, agent_type
