-- Hold the job's row while its files are deleted: a retry that starts it meanwhile waits.
SELECT status, output_key, coalesce(completed_at, created_at) AS finished_at
FROM analytics_export_jobs
WHERE job_id = %(job_id)s
FOR UPDATE
