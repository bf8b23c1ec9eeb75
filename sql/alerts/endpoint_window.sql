-- Per endpoint, the requests of every organization with an event time in [window_start, window_end):
-- requests, server errors (5xx) and the p95 latency. The same raw events the hourly SRE metrics count,
-- read directly so a fault is judged as soon as its events are in (the BRIN index bounds the scan).
SELECT coalesce(endpoint, '(none)') AS endpoint,
       count(*) AS requests,
       count(*) FILTER (WHERE status_code >= 500) AS server_errors,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS latency_p95_ms
FROM analytics_events
WHERE event_time >= %(window_start)s AND event_time < %(window_end)s
GROUP BY 1
ORDER BY 1
