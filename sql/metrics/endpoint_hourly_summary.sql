-- Figures of the endpoint rows of [range_start, range_end), from the every-organization rows.
SELECT (SELECT count(*) FROM analytics_endpoint_hourly_metrics
         WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s),
       coalesce(sum(request_count), 0)::bigint,
       coalesce(sum(status_5xx), 0)::bigint,
       max(latency_p99_ms),
       (SELECT count(*) FROM analytics_error_type_hourly
         WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s),
       coalesce(sum(error_types_on_non_errors), 0)::bigint
FROM analytics_endpoint_hourly_metrics
WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s AND organization_id IS NULL
