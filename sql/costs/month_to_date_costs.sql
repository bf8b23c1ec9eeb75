-- Each tenant's attributed cost over [start_date, end_date) (a month to date), per currency; organization_id
-- NULL is the shared cost left unattributed. days_with_costs: how many days of the period have attribution.
SELECT organization_id,
       sum(attributed_cost) AS attributed_cost,
       currency,
       (SELECT count(DISTINCT usage_date)
        FROM analytics_tenant_cost_attribution
        WHERE usage_date >= %(start_date)s AND usage_date < %(end_date)s) AS days_with_costs
FROM analytics_tenant_cost_attribution
WHERE usage_date >= %(start_date)s AND usage_date < %(end_date)s
GROUP BY organization_id, currency
