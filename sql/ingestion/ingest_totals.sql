-- Ledger totals over objects delivered in [range_start, range_end).
SELECT count(*) FILTER (WHERE status = 'loaded') AS objects_loaded,
       count(*) FILTER (WHERE status = 'failed') AS objects_failed,
       coalesce(sum(lines_read), 0)  AS lines_read,
       coalesce(sum(accepted), 0)    AS accepted,
       coalesce(sum(duplicates), 0)  AS duplicates,
       coalesce(sum(quarantined), 0) AS quarantined
FROM analytics_ingested_objects
WHERE source = %(source)s AND delivery_hour >= %(range_start)s AND delivery_hour < %(range_end)s
