-- What the rollups say for one export's organization and range: the reconciliation target.
SELECT coalesce(sum(request_count), 0)::bigint, coalesce(sum(tokens_total), 0)::bigint,
       coalesce(sum(error_count), 0)::bigint, coalesce(sum(cost_total), 0)
FROM {rollup_table}
WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
  AND organization_id = %(organization_id)s
