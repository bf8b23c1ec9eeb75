-- Rollup rows of [range_start, range_end) that differ from a fresh aggregation of the raw
-- events (or exist on one side only). {rollup_table}/{bucket} are fixed by the caller.
-- A model_id of "" and a missing one are different rows: the join holds coalesce(model_id, '') and
-- model_id IS NULL, equalities the planner can hash (IS NOT DISTINCT FROM it cannot).
WITH
{priced_events},
expected AS (
    SELECT date_trunc({bucket}, event_time) AS bucket_start, organization_id, model_id,
           count(*) AS request_count, sum(tokens_input + tokens_output) AS tokens_total,
           count(*) FILTER (WHERE status_code >= 400) AS error_count, sum(cost) AS cost_total
    FROM priced_events
    GROUP BY 1, 2, 3
),
actual AS (
    SELECT bucket_start, organization_id, model_id, request_count, tokens_total, error_count, cost_total
    FROM {rollup_table}
    WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
)
SELECT coalesce(e.bucket_start, a.bucket_start) AS bucket_start,
       coalesce(e.organization_id, a.organization_id) AS organization_id,
       coalesce(e.model_id, a.model_id) AS model_id,
       e.request_count AS expected_requests, a.request_count AS actual_requests,
       e.cost_total AS expected_cost, a.cost_total AS actual_cost
FROM expected AS e
FULL JOIN actual AS a
  ON e.bucket_start = a.bucket_start AND e.organization_id = a.organization_id
 AND coalesce(e.model_id, '') = coalesce(a.model_id, '') AND (e.model_id IS NULL) = (a.model_id IS NULL)
WHERE (e.request_count, e.tokens_total, e.error_count, e.cost_total)
      IS DISTINCT FROM (a.request_count, a.tokens_total, a.error_count, a.cost_total)
ORDER BY 1, 2, 3
LIMIT 20
