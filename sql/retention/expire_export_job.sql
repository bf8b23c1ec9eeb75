-- The job's files are gone: a succeeded job becomes expired, a failed one keeps its status
-- (and error); both record when.
UPDATE analytics_export_jobs
SET status = CASE WHEN status = 'succeeded' THEN 'expired' ELSE status END, expired_at = now()
WHERE job_id = %(job_id)s
