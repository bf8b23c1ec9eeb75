-- The given percentile of the successful runs of one command, per service, over the run
-- files dated in [first_day, end_day): what a duration budget is compared against.
SELECT service,
       count(*) AS successful_runs,
       percentile_cont(%(percentile)s) WITHIN GROUP (ORDER BY duration_seconds) AS observed_seconds
FROM analytics_ci_runs
WHERE status = 'success'
  AND command = %(command)s
  AND file_date >= %(first_day)s AND file_date < %(end_day)s
GROUP BY service
ORDER BY service
