SELECT count(*) AS row_count,
       count(DISTINCT endpoint) AS endpoints,
       coalesce(sum(request_count), 0)::bigint AS request_count,
       coalesce(sum(server_error_count), 0)::bigint AS server_error_count,
       max(latency_p99_ms) AS worst_p99_ms
FROM analytics_endpoint_daily_rollups
WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
