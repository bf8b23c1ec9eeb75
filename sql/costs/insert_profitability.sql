-- One tenant's revenue, attributed cost (and its cost categories, in cents that add up to it) and margin for
-- a month (or the month to date).
INSERT INTO analytics_tenant_profitability (
    period_start, period_end, is_month_to_date, organization_id, revenue, attributed_cost, margin, margin_pct,
    request_count, tokens_total, currency, run_id,
    compute_cost, api_cost, data_transfer_cost, storage_cost, other_cost)
VALUES (
    %(period_start)s, %(period_end)s, %(is_month_to_date)s, %(organization_id)s, %(revenue)s, %(attributed_cost)s,
    %(margin)s, %(margin_pct)s, %(request_count)s, %(tokens_total)s, %(currency)s, %(run_id)s,
    %(compute_cost)s, %(api_cost)s, %(data_transfer_cost)s, %(storage_cost)s, %(other_cost)s)
