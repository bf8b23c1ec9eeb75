SELECT count(*)
FROM analytics_export_jobs
WHERE organization_id = %(organization_id)s AND status IN ('pending', 'running')
