-- Agent invocations (events with an agent_type) per hour of [range_start, range_end) and agent type, per
-- organization and for every organization together (organization_id NULL): count, failures (status >= 400;
-- server failures >= 500) and exact duration percentiles.
INSERT INTO analytics_agent_hourly_metrics (bucket_start, organization_id, agent_type, invocations, failures,
                                            server_failures, duration_p50_ms, duration_p95_ms, duration_p99_ms)
SELECT date_bin('1 hour', event_time, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
       organization_id,
       agent_type COLLATE "C",
       count(*),
       count(*) FILTER (WHERE status_code >= 400),
       count(*) FILTER (WHERE status_code >= 500),
       percentile_cont(0.50) WITHIN GROUP (ORDER BY duration_ms),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms),
       percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms)
FROM analytics_events
WHERE event_time >= %(range_start)s AND event_time < %(range_end)s AND agent_type IS NOT NULL
GROUP BY GROUPING SETS ((1, 2, 3), (1, 3))
