-- The hours among %(hours)s whose hourly rollups lag their events: the requests the rollups count
-- differ from the events the ingest ledger says each object added to the hour
-- (analytics_ingested_event_hours). Events are only ever added, so equal sums mean the rollups
-- saw every event; both sides are read by index on the hour, never by scanning events.
WITH hours AS (
    SELECT DISTINCT unnest(%(hours)s::timestamptz[]) AS bucket_start
), ledger AS (
    SELECT event_hour AS bucket_start, sum(events) AS events
    FROM analytics_ingested_event_hours
    WHERE event_hour = ANY (%(hours)s::timestamptz[])
    GROUP BY event_hour
), rolled AS (
    SELECT bucket_start, sum(request_count) AS requests
    FROM analytics_hourly_rollups
    WHERE bucket_start = ANY (%(hours)s::timestamptz[])
    GROUP BY bucket_start
)
SELECT h.bucket_start
FROM hours AS h
LEFT JOIN ledger AS l USING (bucket_start)
LEFT JOIN rolled AS r USING (bucket_start)
WHERE coalesce(l.events, 0) <> coalesce(r.requests, 0)
ORDER BY h.bucket_start
