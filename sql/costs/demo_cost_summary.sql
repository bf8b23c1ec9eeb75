-- The demo's cost lines: infrastructure cost, what was attributed, and the margin, for a month.
SELECT (SELECT sum(amount) FROM analytics_infra_costs
         WHERE usage_date >= %(range_start)s::date AND usage_date < %(range_end)s::date),
       (SELECT sum(attributed_cost) FROM analytics_tenant_cost_attribution
         WHERE usage_date >= %(range_start)s::date AND usage_date < %(range_end)s::date),
       (SELECT sum(margin) FROM analytics_tenant_profitability
         WHERE period_start >= %(range_start)s::date AND period_start < %(range_end)s::date
           AND NOT is_month_to_date)
