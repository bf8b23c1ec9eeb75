-- Figures of the agent and tool rows of [range_start, range_end).
SELECT (SELECT count(*) FROM analytics_agent_hourly_metrics
         WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s),
       coalesce(sum(invocations), 0)::bigint,
       coalesce(sum(failures), 0)::bigint,
       max(duration_p95_ms),
       (SELECT count(*) FROM analytics_tool_hourly_usage
         WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s),
       (SELECT coalesce(sum(invocations), 0)::bigint FROM analytics_tool_hourly_usage
         WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s)
FROM analytics_agent_hourly_metrics
WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s AND organization_id IS NULL
