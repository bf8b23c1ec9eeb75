-- Verified archives of the days up to a last day whose partitions still exist.
SELECT day, location, object_key, row_count, sha256, bytes, archived_at, verified_at
FROM analytics_raw_archives
WHERE dropped_at IS NULL AND day <= %(last_day)s
ORDER BY day
