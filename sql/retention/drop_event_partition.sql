-- Drop one day's partition as a whole (DROP TABLE, no row-by-row DELETE).
SELECT analytics_drop_event_partition(%(day)s)
