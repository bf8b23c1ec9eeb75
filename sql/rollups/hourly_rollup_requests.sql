-- The requests the hourly rollups count in each of %(hours)s (delivery/hours_behind_ledger.sql's measure).
SELECT bucket_start, sum(request_count) AS requests
FROM analytics_hourly_rollups
WHERE bucket_start = ANY (%(hours)s::timestamptz[])
GROUP BY bucket_start
