-- Per tenant over the days [start_date, end_date): revenue (the rollups' cost_total, what is billed), requests and
-- tokens, and the attributed infrastructure cost. A tenant with only one of the two sides still gets a row;
-- organization_id NULL is the shared cost that no usage carried. The category sums are exact (the attributed
-- cents are split over them by the caller).
WITH revenue AS (
    SELECT organization_id,
           sum(cost_total) AS revenue,
           sum(request_count) AS request_count,
           sum(tokens_total) AS tokens_total
    FROM analytics_daily_rollups
    WHERE bucket_start >= (%(start_date)s::date)::timestamp AT TIME ZONE 'UTC'
      AND bucket_start <  (%(end_date)s::date)::timestamp AT TIME ZONE 'UTC'
    GROUP BY organization_id
), costs AS (
    SELECT organization_id,
           sum(attributed_cost) AS attributed_cost,
           array_agg(DISTINCT currency ORDER BY currency) AS currencies,
           sum(compute_cost) AS compute_cost, sum(api_cost) AS api_cost,
           sum(data_transfer_cost) AS data_transfer_cost, sum(storage_cost) AS storage_cost,
           sum(other_cost) AS other_cost
    FROM analytics_tenant_cost_attribution
    WHERE usage_date >= %(start_date)s AND usage_date < %(end_date)s
    GROUP BY organization_id
)
SELECT coalesce(revenue.organization_id, costs.organization_id) AS organization_id,
       coalesce(revenue.revenue, 0) AS revenue,
       coalesce(costs.attributed_cost, 0) AS attributed_cost,
       coalesce(revenue.request_count, 0) AS request_count,
       coalesce(revenue.tokens_total, 0) AS tokens_total,
       costs.currencies,
       coalesce(costs.compute_cost, 0), coalesce(costs.api_cost, 0), coalesce(costs.data_transfer_cost, 0),
       coalesce(costs.storage_cost, 0), coalesce(costs.other_cost, 0)
FROM revenue FULL JOIN costs ON costs.organization_id = revenue.organization_id
