-- The attributed cost of complete month %(month)s that no customer row of the business page carries (those rows
-- come from analytics_monthly_revenue, organizations billed in the month): the shared cost no usage could carry
-- (organization_id NULL) and the tagged cost of organizations without usage that month. With them the page's cost
-- equals analytics_tenant_profitability's, cent for cent.
SELECT p.organization_id, p.attributed_cost, p.compute_cost, p.api_cost, p.data_transfer_cost, p.storage_cost,
       p.other_cost, p.revenue
FROM analytics_tenant_profitability AS p
WHERE p.period_start = %(month)s
  AND NOT p.is_month_to_date
  AND NOT EXISTS (SELECT 1 FROM analytics_monthly_revenue AS r
                  WHERE r.month = p.period_start AND r.organization_id = p.organization_id)
ORDER BY p.organization_id NULLS LAST
