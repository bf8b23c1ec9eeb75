-- Per (day of the run file, service, command): runs, success rate, and the p50/p95/max
-- duration of the successful runs (failed and cancelled runs stop early and would flatter
-- the trend). Run after delete_duration_trends.sql in the same transaction.
INSERT INTO analytics_ci_duration_trends (
    day, service, command, runs, successful_runs, success_rate,
    duration_p50_seconds, duration_p95_seconds, duration_max_seconds, commits)
SELECT file_date,
       service,
       command,
       count(*),
       count(*) FILTER (WHERE status = 'success'),
       count(*) FILTER (WHERE status = 'success')::double precision / count(*),
       percentile_cont(0.50) WITHIN GROUP (ORDER BY duration_seconds) FILTER (WHERE status = 'success'),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_seconds) FILTER (WHERE status = 'success'),
       max(duration_seconds) FILTER (WHERE status = 'success'),
       count(DISTINCT commit_sha)
FROM analytics_ci_runs
WHERE file_date >= %(first_day)s AND file_date < %(end_day)s
GROUP BY file_date, service, command
