-- Remove the session pieces and concurrency rows of the hours of [range_start, range_end) being recomputed.
WITH pieces AS (
    DELETE FROM analytics_session_hours WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
)
DELETE FROM analytics_session_concurrency_hourly
WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
