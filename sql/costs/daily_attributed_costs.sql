-- Each tenant's attributed cost per day over [start_date, end_date): the history of the budget check's
-- month-end forecast. organization_id NULL: shared cost left unattributed.
SELECT organization_id, usage_date, sum(attributed_cost) AS attributed_cost
FROM analytics_tenant_cost_attribution
WHERE usage_date >= %(start_date)s AND usage_date < %(end_date)s
GROUP BY organization_id, usage_date
