-- Remove the endpoint and error-type rows of the hours of [range_start, range_end) being recomputed.
WITH endpoints AS (
    DELETE FROM analytics_endpoint_hourly_metrics WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
)
DELETE FROM analytics_error_type_hourly WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
