-- Allocation driver "tokens": each tenant's requests and tokens per UTC day, from the daily rollups.
SELECT (bucket_start AT TIME ZONE 'UTC')::date AS usage_date,
       organization_id,
       sum(request_count) AS request_count,
       sum(tokens_total)::numeric AS driver_value
FROM analytics_daily_rollups
WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
GROUP BY 1, 2
