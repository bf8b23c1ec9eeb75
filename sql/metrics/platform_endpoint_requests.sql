-- The platform-wide requests of analytics_endpoint_hourly_metrics in each of %(hours)s (the hourly SRE
-- metrics' measure for delivery/hours_behind_ledger.sql).
SELECT bucket_start, sum(request_count) AS requests
FROM analytics_endpoint_hourly_metrics
WHERE bucket_start = ANY (%(hours)s::timestamptz[]) AND organization_id IS NULL
GROUP BY bucket_start
