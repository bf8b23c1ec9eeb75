SELECT {job_columns}
FROM analytics_export_jobs
WHERE (%(status)s::text IS NULL OR status = %(status)s::text)
  AND (%(organization_id)s::text IS NULL OR organization_id = %(organization_id)s::text)
  AND (%(job_id)s::uuid IS NULL OR job_id = %(job_id)s::uuid)
ORDER BY created_at DESC, job_id DESC
LIMIT %(limit)s
