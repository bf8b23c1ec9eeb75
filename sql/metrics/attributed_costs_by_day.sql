-- Each tenant's attributed cost per day over [start_date, end_date) (budget burn of the health score).
SELECT organization_id, usage_date, sum(attributed_cost)
FROM analytics_tenant_cost_attribution
WHERE usage_date >= %(start_date)s AND usage_date < %(end_date)s AND organization_id IS NOT NULL
GROUP BY organization_id, usage_date
