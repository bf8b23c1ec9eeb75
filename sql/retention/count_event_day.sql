-- The rows of one raw-event day, and the moment of the snapshot they were counted in.
SELECT now() AS snapshot_at, count(*) AS row_count
FROM analytics_events
WHERE event_time >= %(day_start)s AND event_time < %(day_end)s
