-- The event hours of [range_start, range_end] the ingest ledger has added events to (by its
-- primary key): the only hours whose rollups can lag what was ingested.
SELECT DISTINCT event_hour
FROM analytics_ingested_event_hours
WHERE event_hour >= %(range_start)s AND event_hour <= %(range_end)s
ORDER BY event_hour
