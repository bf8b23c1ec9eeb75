-- Days overlapping [range_start, range_end) whose raw-event partition retention dropped (after
-- archiving it as Parquet): rollups of these days cannot be rebuilt from the warehouse.
-- Day bounds are UTC midnights, as the partitions' are.
SELECT day
FROM analytics_raw_archives
WHERE dropped_at IS NOT NULL
  AND (day::timestamp AT TIME ZONE 'UTC') < %(range_end)s
  AND ((day + 1)::timestamp AT TIME ZONE 'UTC') > %(range_start)s
ORDER BY day
