-- What the rollups say per organization for a range (optionally one organization): what
-- daily and monthly exports (made from the daily rollups) reconcile against, read from
-- the hourly rollups (an independent path), a table fixed by the caller.
SELECT organization_id,
       coalesce(sum(request_count), 0)::bigint, coalesce(sum(tokens_total), 0)::bigint,
       coalesce(sum(error_count), 0)::bigint, coalesce(sum(cost_total), 0)
FROM {rollup_table}
WHERE bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
  AND (%(organization_id)s::text IS NULL OR organization_id = %(organization_id)s::text)
GROUP BY organization_id
