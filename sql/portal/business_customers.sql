-- The business page's customers of month %(month)s: MRR (billed revenue under the plan), usage, attributed
-- cost by category, margin, ranks by revenue and by usage with their change, the month's last health score
-- and churn signal, and MAU (analytics_view_business_dashboard, one row per organization).
SELECT organization_id, plan, mrr, usage_revenue, request_count, tokens_total, attributed_cost, compute_cost,
       api_cost, data_transfer_cost, storage_cost, other_cost, margin, margin_pct, revenue_rank, revenue_rank_change,
       usage_rank, usage_rank_change, health_score, health_band, churn_signal, churn_reason, mau, currency
FROM analytics_view_business_dashboard
WHERE month = %(month)s
ORDER BY mrr DESC, organization_id
