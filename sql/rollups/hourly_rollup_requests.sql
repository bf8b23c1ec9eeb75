-- The requests the hourly rollups count in each of %(hours)s (delivery/hours_behind_ledger.sql's measure;
-- NULL for an hour without rows). One probe of the rollups' key (it leads with bucket_start) per hour:
-- written as `bucket_start = ANY (%(hours)s)`, the planner scanned the whole table instead, 120-185 ms
-- for 49 hours of a 10 M-event month (1.3 M wide rows), against 25 ms so. Every /usage call and portal
-- usage page pays this measure (rollups.usage.live_usage_from), and so does each restatement tick.
SELECT h.bucket_start, r.requests
FROM (SELECT DISTINCT unnest(%(hours)s::timestamptz[]) AS bucket_start) AS h
CROSS JOIN LATERAL (
    SELECT sum(request_count) AS requests
    FROM analytics_hourly_rollups AS rollup
    WHERE rollup.bucket_start = h.bucket_start
) AS r
