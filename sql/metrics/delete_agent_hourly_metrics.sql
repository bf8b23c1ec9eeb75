-- Remove the agent and tool rows of the hours of [range_start, range_end) being recomputed.
WITH agents AS (
    DELETE FROM analytics_agent_hourly_metrics WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
)
DELETE FROM analytics_tool_hourly_usage WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
