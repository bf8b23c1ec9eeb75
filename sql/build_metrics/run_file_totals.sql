-- Build-metrics files and runs of the days [first_day, end_day): the ledger's outcomes per
-- file (the ledger's delivery_hour of a run file is 00:00 UTC of its day) and the runs stored.
SELECT count(*) AS files,
       coalesce(sum(accepted), 0)::bigint AS accepted,
       coalesce(sum(duplicates), 0)::bigint AS duplicates,
       coalesce(sum(quarantined), 0)::bigint AS quarantined,
       (SELECT count(*) FROM analytics_ci_runs
         WHERE file_date >= %(first_day)s AND file_date < %(end_day)s) AS runs,
       (SELECT count(*) FROM analytics_ci_runs
         WHERE file_date >= %(first_day)s AND file_date < %(end_day)s AND status = 'success') AS successful_runs,
       (SELECT count(DISTINCT service) FROM analytics_ci_runs
         WHERE file_date >= %(first_day)s AND file_date < %(end_day)s) AS services
FROM analytics_ingested_objects
WHERE source = %(source)s
  AND delivery_hour >= %(first_day)s::timestamp AT TIME ZONE 'UTC'
  AND delivery_hour < %(end_day)s::timestamp AT TIME ZONE 'UTC'
