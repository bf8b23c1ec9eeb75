-- Each day's infrastructure cost per tenant in [range_start, range_end); organization_id NULL: shared cost.
SELECT usage_date,
       organization_id,
       sum(amount) AS amount,
       array_agg(DISTINCT currency ORDER BY currency) AS currencies
FROM analytics_infra_costs
WHERE usage_date >= (%(range_start)s::timestamptz AT TIME ZONE 'UTC')::date
  AND usage_date <  (%(range_end)s::timestamptz AT TIME ZONE 'UTC')::date
GROUP BY usage_date, organization_id
ORDER BY usage_date, organization_id NULLS LAST
