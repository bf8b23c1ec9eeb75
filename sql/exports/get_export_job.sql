-- One job; with an organization, only when it is that organization's.
SELECT {job_columns}
FROM analytics_export_jobs
WHERE job_id = %(job_id)s
  AND (%(organization_id)s::text IS NULL OR organization_id = %(organization_id)s::text)
