-- The dedupe keys of a dropped day (events that old are quarantined as out of retention at
-- ingest, so nothing can need them again).
DELETE FROM analytics_event_keys
WHERE event_time >= %(day_start)s AND event_time < %(day_end)s
