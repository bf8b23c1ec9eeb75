-- Daily rollup rows of [range_start, range_end) whose additive measures differ from the
-- sum of the day's hourly rollup rows (or exist on one side only).
-- A model_id of "" and a missing one are different rows: the join holds coalesce(model_id, '') and
-- model_id IS NULL, equalities the planner can hash (IS NOT DISTINCT FROM it cannot).
WITH hourly AS (
    SELECT date_trunc('day', bucket_start) AS bucket_start, organization_id, model_id,
           sum(request_count) AS request_count, sum(tokens_input) AS tokens_input,
           sum(tokens_output) AS tokens_output, sum(tokens_total) AS tokens_total,
           sum(error_count) AS error_count, sum(client_error_count) AS client_error_count,
           sum(server_error_count) AS server_error_count, sum(cost_total) AS cost_total
    FROM analytics_hourly_rollups
    WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
    GROUP BY 1, 2, 3
),
daily AS (
    SELECT * FROM analytics_daily_rollups
    WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
)
SELECT coalesce(h.bucket_start, d.bucket_start) AS bucket_start,
       coalesce(h.organization_id, d.organization_id) AS organization_id,
       coalesce(h.model_id, d.model_id) AS model_id,
       h.request_count AS hourly_requests, d.request_count AS daily_requests,
       h.cost_total AS hourly_cost, d.cost_total AS daily_cost
FROM hourly AS h
FULL JOIN daily AS d
  ON h.bucket_start = d.bucket_start AND h.organization_id = d.organization_id
 AND coalesce(h.model_id, '') = coalesce(d.model_id, '') AND (h.model_id IS NULL) = (d.model_id IS NULL)
WHERE (h.request_count, h.tokens_input, h.tokens_output, h.tokens_total, h.error_count,
       h.client_error_count, h.server_error_count, h.cost_total)
      IS DISTINCT FROM
      (d.request_count, d.tokens_input, d.tokens_output, d.tokens_total, d.error_count,
       d.client_error_count, d.server_error_count, d.cost_total)
ORDER BY 1, 2, 3
LIMIT 20
