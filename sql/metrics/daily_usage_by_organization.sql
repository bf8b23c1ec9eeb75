-- Each organization's requests, tokens and billed cost per UTC day over [start_date, end_date), from the daily
-- rollups: the series the month-end forecast and its backtest run on.
SELECT organization_id, (bucket_start AT TIME ZONE 'UTC')::date AS day, sum(request_count)::bigint,
       sum(tokens_total)::bigint, sum(cost_total)
FROM analytics_daily_rollups
WHERE bucket_start >= (%(start_date)s::date)::timestamp AT TIME ZONE 'UTC'
  AND bucket_start <  (%(end_date)s::date)::timestamp AT TIME ZONE 'UTC'
GROUP BY 1, 2
