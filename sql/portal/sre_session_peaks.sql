-- The SRE page: the organizations with the most concurrent sessions over [range_start, range_end).
SELECT organization_id, max(peak_concurrent_sessions) AS peak, sum(sessions)::bigint AS session_hours
FROM analytics_session_concurrency_hourly
WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
GROUP BY organization_id
ORDER BY max(peak_concurrent_sessions) DESC, organization_id
LIMIT %(limit)s
