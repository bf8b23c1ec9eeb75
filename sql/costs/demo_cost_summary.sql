-- The demo's cost lines for a month: infrastructure cost (all of it, and production only: the rest is staging
-- and untagged spend, never attributed), what was attributed, and the margin.
SELECT (SELECT sum(amount) FROM analytics_infra_costs
         WHERE usage_date >= %(range_start)s::date AND usage_date < %(range_end)s::date),
       (SELECT sum(amount) FROM analytics_infra_costs
         WHERE usage_date >= %(range_start)s::date AND usage_date < %(range_end)s::date
           AND environment = 'production'),
       (SELECT sum(attributed_cost) FROM analytics_tenant_cost_attribution
         WHERE usage_date >= %(range_start)s::date AND usage_date < %(range_end)s::date),
       (SELECT sum(margin) FROM analytics_tenant_profitability
         WHERE period_start >= %(range_start)s::date AND period_start < %(range_end)s::date
           AND NOT is_month_to_date)
