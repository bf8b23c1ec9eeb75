-- Per (service, command): the last 2 x window_runs successful runs of the files dated before
-- end_day, ranked newest first by start time. "recent" is the newest window_runs, "baseline"
-- the window_runs before them; the runs come back oldest first for change-point detection.
WITH ranked AS (
    SELECT service, command, run_id, started_at, duration_seconds, commit_sha,
           row_number() OVER (PARTITION BY service, command ORDER BY started_at DESC, run_id DESC) AS recency
    FROM analytics_ci_runs
    WHERE status = 'success' AND file_date < %(end_day)s
)
SELECT service,
       command,
       count(*) FILTER (WHERE recency <= %(window_runs)s) AS recent_runs,
       count(*) FILTER (WHERE recency > %(window_runs)s) AS baseline_runs,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_seconds) FILTER (WHERE recency <= %(window_runs)s)
           AS recent_median_seconds,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_seconds) FILTER (WHERE recency > %(window_runs)s)
           AS baseline_median_seconds,
       array_agg(run_id ORDER BY recency DESC) AS run_ids,
       array_agg(started_at ORDER BY recency DESC) AS started_ats,
       array_agg(duration_seconds ORDER BY recency DESC) AS durations,
       array_agg(commit_sha ORDER BY recency DESC) AS commit_shas
FROM ranked
WHERE recency <= 2 * %(window_runs)s
GROUP BY service, command
ORDER BY service, command
