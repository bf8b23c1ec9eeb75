-- Each organization's billed usage over the days [start_date, end_date): the daily rollups' cost_total (usage
-- priced at the catalog price), requests and tokens.
SELECT organization_id, sum(cost_total) AS usage_revenue, sum(request_count)::bigint AS request_count,
       sum(tokens_total)::bigint AS tokens_total
FROM analytics_daily_rollups
WHERE bucket_start >= (%(start_date)s::date)::timestamp AT TIME ZONE 'UTC'
  AND bucket_start <  (%(end_date)s::date)::timestamp AT TIME ZONE 'UTC'
GROUP BY organization_id
ORDER BY organization_id
