-- Rows of a finance export: rollups re-bucketed to the export granularity, per organization
-- and (when by_model) per model. {rollup_table} is fixed by the caller from the granularity.
-- Per model, requests without a model get the model_less_id literal, '(none)': the empty model_id is
-- the contract's mark of a row aggregated across models (by_model false), and only that.
SELECT date_trunc(%(bucket)s, bucket_start) AS bucket_start,
       organization_id,
       CASE WHEN %(by_model)s THEN coalesce(model_id, {model_less_id}) END AS model_id,
       sum(request_count)::bigint AS request_count,
       sum(tokens_total)::bigint AS tokens_total,
       sum(error_count)::bigint AS error_count,
       sum(cost_total)    AS cost_total
FROM {rollup_table}
WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
  AND (%(organization_id)s::text IS NULL OR organization_id = %(organization_id)s::text)
GROUP BY 1, 2, 3
ORDER BY organization_id, bucket_start, model_id NULLS FIRST
