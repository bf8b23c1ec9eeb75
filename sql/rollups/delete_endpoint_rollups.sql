DELETE FROM analytics_endpoint_daily_rollups
WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
