-- The highest concurrency of [range_start, range_end): sessions, organization, moment.
SELECT peak_concurrent_sessions, organization_id, peak_at
FROM analytics_session_concurrency_hourly
WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
ORDER BY peak_concurrent_sessions DESC, peak_at, organization_id
LIMIT 1
