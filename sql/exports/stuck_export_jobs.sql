-- Jobs pending since before the cutoff that no run has started (a stopped daemon).
SELECT count(*), (array_agg(job_id ORDER BY created_at, job_id))[1], min(created_at)
FROM analytics_export_jobs
WHERE status = 'pending' AND created_at < %(cutoff)s AND run_id IS NULL
