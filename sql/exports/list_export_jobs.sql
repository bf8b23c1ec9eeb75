SELECT job_id, organization_id, range_start, range_end, granularity, by_model, status, created_at,
       completed_at, output_uri, checksum, row_count, initiated_by, error
FROM analytics_export_jobs
WHERE (%(status)s::text IS NULL OR status = %(status)s::text)
  AND (%(organization_id)s::text IS NULL OR organization_id = %(organization_id)s::text)
  AND (%(job_id)s::uuid IS NULL OR job_id = %(job_id)s::uuid)
ORDER BY created_at DESC
LIMIT %(limit)s
