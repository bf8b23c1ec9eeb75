-- Finished ad hoc export jobs whose files are older than the cutoff and still there: succeeded
-- ones (again if re-run after an earlier expiry) and failed ones (a failure can leave files).
-- Pending and running jobs never match.
SELECT job_id, organization_id, status, output_key, coalesce(completed_at, created_at) AS finished_at
FROM analytics_export_jobs
WHERE coalesce(completed_at, created_at) < %(cutoff)s
  AND ((status = 'succeeded' AND (expired_at IS NULL OR expired_at < completed_at))
       OR (status = 'failed' AND expired_at IS NULL))
ORDER BY finished_at, job_id
