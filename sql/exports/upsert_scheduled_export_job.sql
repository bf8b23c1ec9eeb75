-- The job row of a scheduled export (succeeded when written): created on the first run, refreshed
-- (files, checksum, completion, run) when the export is made again; created_at stays the first.
INSERT INTO analytics_export_jobs
    (job_id, organization_id, range_start, range_end, granularity, by_model, status, initiated_by, created_at,
     started_at, completed_at, output_key, output_uri, checksum, row_count, run_id)
VALUES
    (%(job_id)s, %(organization_id)s, %(range_start)s, %(range_end)s, %(granularity)s, %(by_model)s, 'succeeded',
     %(initiated_by)s, %(at)s, %(at)s, %(at)s, %(output_key)s, %(output_uri)s, %(checksum)s, %(row_count)s,
     %(run_id)s)
ON CONFLICT (job_id) DO UPDATE
SET status = 'succeeded', initiated_by = excluded.initiated_by, started_at = excluded.started_at,
    completed_at = excluded.completed_at, output_key = excluded.output_key, output_uri = excluded.output_uri,
    checksum = excluded.checksum, row_count = excluded.row_count, run_id = excluded.run_id, error = NULL,
    expired_at = NULL
