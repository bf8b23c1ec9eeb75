SELECT {job_columns}
FROM analytics_export_jobs
WHERE organization_id = %(organization_id)s AND idempotency_key = %(idempotency_key)s
