-- The SRE page: sessions per hour of [range_start, range_end): sessions open in the hour (all organizations),
-- the highest peak of concurrent sessions of one organization, and the sum of the organizations' peaks (an upper
-- bound of the platform's peak: organizations peak at different moments).
SELECT bucket_start, sum(sessions)::bigint AS sessions, max(peak_concurrent_sessions) AS highest_peak,
       sum(peak_concurrent_sessions)::bigint AS summed_peaks
FROM analytics_session_concurrency_hourly
WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
GROUP BY bucket_start
ORDER BY bucket_start
