INSERT INTO analytics_export_jobs
    (job_id, organization_id, range_start, range_end, granularity, by_model, status, initiated_by)
VALUES
    (%(job_id)s, %(organization_id)s, %(range_start)s, %(range_end)s, %(granularity)s, %(by_model)s, 'pending', %(initiated_by)s)
ON CONFLICT (job_id) DO NOTHING
