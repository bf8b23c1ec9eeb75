UPDATE analytics_export_jobs
SET status = 'failed', completed_at = coalesce(%(at)s::timestamptz, now()), error = %(error)s
WHERE job_id = %(job_id)s
