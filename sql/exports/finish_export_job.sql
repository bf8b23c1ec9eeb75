UPDATE analytics_export_jobs
SET status = 'succeeded', completed_at = coalesce(%(at)s::timestamptz, now()), output_key = %(output_key)s,
    output_uri = %(output_uri)s, checksum = %(checksum)s, row_count = %(row_count)s, error = NULL
WHERE job_id = %(job_id)s
