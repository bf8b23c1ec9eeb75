-- One page of an organization's jobs, newest first, by the keyset (created_at, job_id).
-- The status and keyset filters are fixed clauses (or nothing), chosen by the caller.
SELECT {job_columns}
FROM analytics_export_jobs
WHERE organization_id = %(organization_id)s
  {status_filter}
  {before_filter}
ORDER BY created_at DESC, job_id DESC
LIMIT %(limit)s
