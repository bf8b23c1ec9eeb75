SELECT {job_columns}
FROM analytics_export_jobs
WHERE status = 'pending'
ORDER BY created_at, job_id
LIMIT %(limit)s
