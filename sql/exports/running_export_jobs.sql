SELECT {job_columns}
FROM analytics_export_jobs
WHERE status = 'running'
ORDER BY started_at, job_id
LIMIT %(limit)s
