-- The job rows of monthly export files retention deleted: expired, kept for audit.
UPDATE analytics_export_jobs
SET status = 'expired', expired_at = %(now)s
WHERE status = 'succeeded' AND output_key = ANY(%(output_keys)s)
