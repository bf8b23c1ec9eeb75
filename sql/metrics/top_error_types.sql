-- The most frequent (status class, error type) pairs of [range_start, range_end), every organization together.
SELECT status_class, error_type, sum(error_count)::bigint AS errors
FROM analytics_error_type_hourly
WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s AND organization_id IS NULL
GROUP BY 1, 2
ORDER BY errors DESC, status_class, error_type
LIMIT 10
