UPDATE analytics_export_jobs
SET status = 'running', started_at = coalesce(%(at)s::timestamptz, now()), run_id = %(run_id)s, error = NULL
WHERE job_id = %(job_id)s AND status IN ('pending', 'failed', 'running')
RETURNING job_id
