-- The platform's requests and billed cost over the days [first_day, end_day), from the daily rollups.
SELECT coalesce(sum(request_count), 0)::bigint, coalesce(sum(cost_total), 0)
FROM analytics_daily_rollups
WHERE bucket_start >= (%(first_day)s::date)::timestamp AT TIME ZONE 'UTC'
  AND bucket_start <  (%(end_day)s::date)::timestamp AT TIME ZONE 'UTC'
