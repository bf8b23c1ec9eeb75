SELECT count(*) AS row_count,
       count(DISTINCT organization_id) AS organizations,
       coalesce(sum(request_count), 0)::bigint AS request_count,
       coalesce(sum(tokens_total), 0)::bigint AS tokens_total,
       coalesce(sum(error_count), 0)::bigint AS error_count,
       coalesce(sum(cost_total), 0) AS cost_total
FROM {rollup_table}
WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
