-- Dashboard view: revenue, attributed cost and margin per month and organization (complete months, and the
-- current month to date with is_month_to_date), with each tenant's rank by revenue and by tokens.
CREATE OR REPLACE VIEW analytics_view_monthly_profitability AS
SELECT period_start AS month,
       period_end,
       is_month_to_date,
       coalesce(organization_id, '(unattributed shared cost)') AS organization,
       organization_id,
       revenue,
       attributed_cost,
       margin,
       margin_pct,
       request_count,
       tokens_total,
       rank() OVER (PARTITION BY period_start ORDER BY revenue DESC) AS revenue_rank,
       rank() OVER (PARTITION BY period_start ORDER BY tokens_total DESC) AS usage_rank,
       currency
FROM analytics_tenant_profitability
