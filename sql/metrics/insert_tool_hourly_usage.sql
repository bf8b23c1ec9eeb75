-- Tool calls (events with a tool_name) per hour of [range_start, range_end), organization and tool:
-- invocations, failures (status >= 400), distinct users and the p95 duration.
INSERT INTO analytics_tool_hourly_usage (bucket_start, organization_id, tool_name, invocations, failures, users,
                                         duration_p95_ms)
SELECT date_bin('1 hour', event_time, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
       organization_id,
       tool_name COLLATE "C",
       count(*),
       count(*) FILTER (WHERE status_code >= 400),
       count(DISTINCT user_id),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)
FROM analytics_events
WHERE event_time >= %(range_start)s AND event_time < %(range_end)s AND tool_name IS NOT NULL
GROUP BY 1, 2, 3
