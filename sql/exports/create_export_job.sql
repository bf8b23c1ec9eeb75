-- A new pending job. Nothing when the job id, or the organization's idempotency key, exists.
INSERT INTO analytics_export_jobs
    (job_id, organization_id, range_start, range_end, requested_end, granularity, by_model, status, initiated_by,
     created_at, idempotency_key, request_fingerprint, api_key_id)
VALUES
    (%(job_id)s, %(organization_id)s, %(range_start)s, %(range_end)s, %(requested_end)s, %(granularity)s,
     %(by_model)s, 'pending', %(initiated_by)s, coalesce(%(created_at)s::timestamptz, now()), %(idempotency_key)s,
     %(request_fingerprint)s, %(api_key_id)s)
ON CONFLICT DO NOTHING
RETURNING {job_columns}
