-- Dashboard view: cost breakdown per UTC day and organization: revenue (billed usage), the tenant's tagged
-- (direct) cost, its share of shared cost, the attributed cost in cents, and the margin. organization_id NULL
-- is shared cost that no usage carried that day (status 'unattributed'); status 'usage_without_cost' marks
-- usage on a day with no attribution row at all (costs not loaded yet).
CREATE OR REPLACE VIEW analytics_view_daily_costs AS
WITH revenue AS (
    SELECT (bucket_start AT TIME ZONE 'UTC')::date AS usage_date,
           organization_id,
           sum(cost_total) AS revenue,
           sum(request_count) AS request_count,
           sum(tokens_total) AS tokens_total
    FROM analytics_daily_rollups
    GROUP BY 1, 2
)
SELECT coalesce(a.usage_date, r.usage_date) AS usage_date,
       coalesce(a.organization_id, r.organization_id) AS organization_id,
       coalesce(r.revenue, 0) AS revenue,
       coalesce(a.direct_cost, 0) AS direct_cost,
       coalesce(a.shared_cost_exact, 0) AS shared_cost,
       coalesce(a.attributed_cost, 0) AS attributed_cost,
       coalesce(r.revenue, 0) - coalesce(a.attributed_cost, 0) AS margin,
       round(100 * (coalesce(r.revenue, 0) - coalesce(a.attributed_cost, 0)) / nullif(r.revenue, 0), 2)
           AS margin_pct,
       coalesce(r.request_count, 0) AS request_count,
       coalesce(r.tokens_total, 0) AS tokens_total,
       a.driver,
       a.driver_share,
       coalesce(a.status, 'usage_without_cost') AS status,
       coalesce(a.currency, 'USD') AS currency
FROM analytics_tenant_cost_attribution AS a
FULL JOIN revenue AS r ON r.usage_date = a.usage_date AND r.organization_id = a.organization_id
