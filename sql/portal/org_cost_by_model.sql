-- One organization's billed cost per model over [range_start, range_end), from the daily rollups
-- (model_id NULL: requests that named no model), the costliest first.
SELECT model_id,
       sum(request_count)::bigint AS request_count,
       sum(tokens_total)::bigint AS tokens_total,
       sum(cost_total) AS cost_total
FROM analytics_daily_rollups
WHERE organization_id = %(organization_id)s
  AND bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
GROUP BY model_id
ORDER BY sum(cost_total) DESC, model_id NULLS LAST
