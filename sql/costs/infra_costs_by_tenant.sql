-- Each day's production infrastructure cost per tenant and cost category in [range_start, range_end);
-- organization_id NULL: shared cost. Staging and untagged environments never reach a tenant
-- (non_production_costs.sql reports them).
SELECT usage_date,
       organization_id,
       cost_category,
       sum(amount) AS amount,
       array_agg(DISTINCT currency ORDER BY currency) AS currencies
FROM analytics_infra_costs
WHERE usage_date >= (%(range_start)s::timestamptz AT TIME ZONE 'UTC')::date
  AND usage_date <  (%(range_end)s::timestamptz AT TIME ZONE 'UTC')::date
  AND environment = 'production'
GROUP BY usage_date, organization_id, cost_category
ORDER BY usage_date, organization_id NULLS LAST, cost_category
