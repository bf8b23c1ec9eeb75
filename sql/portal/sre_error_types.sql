-- The SRE page: errors by status class and error_type over [range_start, range_end), every organization
-- together, the most frequent first.
SELECT status_class, error_type, sum(error_count)::bigint AS error_count
FROM analytics_error_type_hourly
WHERE organization_id IS NULL
  AND bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
GROUP BY status_class, error_type
ORDER BY sum(error_count) DESC, status_class, error_type
