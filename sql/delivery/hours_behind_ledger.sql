-- The hours among %(hours)s whose requests, as the measured query counts them (bucket_start, requests, one
-- row an hour, read by index on the hour), differ from the events the ingest ledger says each object
-- added to the hour (analytics_ingested_event_hours). Events are only ever added, so equal sums mean
-- the measure saw every event; neither side scans the events.
WITH hours AS (
    SELECT DISTINCT unnest(%(hours)s::timestamptz[]) AS bucket_start
), ledger AS (
    SELECT event_hour AS bucket_start, sum(events) AS events
    FROM analytics_ingested_event_hours
    WHERE event_hour = ANY (%(hours)s::timestamptz[])
    GROUP BY event_hour
), measured AS (
    {measured}
)
SELECT h.bucket_start
FROM hours AS h
LEFT JOIN ledger AS l USING (bucket_start)
LEFT JOIN measured AS m USING (bucket_start)
WHERE coalesce(l.events, 0) <> coalesce(m.requests, 0)
ORDER BY h.bucket_start
