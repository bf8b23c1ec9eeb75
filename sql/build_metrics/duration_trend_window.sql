-- The same measures as replace_duration_trends.sql over the whole window [first_day, end_day)
-- per (service, command): what a materialization reports (percentiles do not add up over days).
SELECT service,
       command,
       count(*) AS runs,
       count(*) FILTER (WHERE status = 'success') AS successful_runs,
       count(*) FILTER (WHERE status = 'success')::double precision / count(*) AS success_rate,
       percentile_cont(0.50) WITHIN GROUP (ORDER BY duration_seconds) FILTER (WHERE status = 'success')
           AS duration_p50_seconds,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_seconds) FILTER (WHERE status = 'success')
           AS duration_p95_seconds,
       max(duration_seconds) FILTER (WHERE status = 'success') AS duration_max_seconds,
       count(DISTINCT commit_sha) AS commits
FROM analytics_ci_runs
WHERE file_date >= %(first_day)s AND file_date < %(end_day)s
GROUP BY service, command
ORDER BY service, command
