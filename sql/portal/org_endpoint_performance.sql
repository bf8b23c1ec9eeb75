-- One organization's performance per endpoint and UTC day of [range_start, range_end), from the endpoint
-- rollups: exact daily latency percentiles (percentiles of different days cannot be added up).
SELECT endpoint, bucket_start, request_count, error_count, server_error_count,
       latency_p50_ms, latency_p95_ms, latency_p99_ms
FROM analytics_endpoint_daily_rollups
WHERE organization_id = %(organization_id)s
  AND bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
ORDER BY endpoint, bucket_start
