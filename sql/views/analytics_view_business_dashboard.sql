-- Business dashboard (the memo's section 4, Marcus): per complete month and organization, revenue and MRR
-- (billed revenue under its plan), usage, attributed cost by category, margin against billed revenue, ranks by
-- revenue and by usage with their change, the month's last health score and churn signal, and its MAU on its
-- last active day of the month. Active customers of a month: its rows with request_count > 0.
CREATE OR REPLACE VIEW analytics_view_business_dashboard AS
WITH last_health AS (
    SELECT DISTINCT ON (date_trunc('month', day::timestamp)::date, organization_id)
           date_trunc('month', day::timestamp)::date AS month, organization_id, score, band, churn_signal,
           churn_reason
    FROM analytics_customer_health_daily
    ORDER BY date_trunc('month', day::timestamp)::date, organization_id, day DESC
), last_activity AS (
    SELECT DISTINCT ON (date_trunc('month', day::timestamp)::date, organization_id)
           date_trunc('month', day::timestamp)::date AS month, organization_id, mau, day AS last_active_day
    FROM analytics_org_activity_daily
    ORDER BY date_trunc('month', day::timestamp)::date, organization_id, day DESC
)
SELECT r.month,
       r.organization_id,
       r.plan,
       r.billed_revenue AS mrr,
       r.usage_revenue,
       r.discount_percent,
       r.monthly_commitment,
       r.overage,
       r.request_count,
       r.tokens_total,
       p.attributed_cost,
       p.compute_cost,
       p.api_cost,
       p.data_transfer_cost,
       p.storage_cost,
       p.other_cost,
       r.billed_revenue - coalesce(p.attributed_cost, 0) AS margin,
       round(100 * (r.billed_revenue - coalesce(p.attributed_cost, 0)) / nullif(r.billed_revenue, 0), 2)
           AS margin_pct,
       revenue_rank.rank AS revenue_rank,
       revenue_rank.rank_change AS revenue_rank_change,
       usage_rank.rank AS usage_rank,
       usage_rank.rank_change AS usage_rank_change,
       h.score AS health_score,
       h.band AS health_band,
       h.churn_signal,
       h.churn_reason,
       a.mau,
       a.last_active_day,
       r.currency
FROM analytics_monthly_revenue AS r
LEFT JOIN analytics_tenant_profitability AS p
       ON p.period_start = r.month AND p.organization_id = r.organization_id AND NOT p.is_month_to_date
LEFT JOIN analytics_top_customers AS revenue_rank
       ON revenue_rank.month = r.month AND revenue_rank.ranking = 'revenue'
      AND revenue_rank.organization_id = r.organization_id
LEFT JOIN analytics_top_customers AS usage_rank
       ON usage_rank.month = r.month AND usage_rank.ranking = 'usage' AND usage_rank.organization_id = r.organization_id
LEFT JOIN last_health AS h ON h.month = r.month AND h.organization_id = r.organization_id
LEFT JOIN last_activity AS a ON a.month = r.month AND a.organization_id = r.organization_id
