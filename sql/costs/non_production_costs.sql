-- The cost that is not attributed to tenants, per environment (staging, untagged) over [range_start, range_end):
-- the total, the part tagged with a tenant id (a tenant's staging sandbox) and the tenants so tagged.
SELECT environment,
       sum(amount) AS amount,
       coalesce(sum(amount) FILTER (WHERE organization_id IS NOT NULL), 0) AS tenant_tagged,
       count(DISTINCT organization_id) AS tenants
FROM analytics_infra_costs
WHERE usage_date >= (%(range_start)s::timestamptz AT TIME ZONE 'UTC')::date
  AND usage_date <  (%(range_end)s::timestamptz AT TIME ZONE 'UTC')::date
  AND environment <> 'production'
GROUP BY environment
ORDER BY environment
