-- The hours among %(hours)s whose hourly SRE metrics lag their events: the platform-wide requests of
-- analytics_endpoint_hourly_metrics differ from the events the ingest ledger says each object added
-- to the hour (analytics_ingested_event_hours). Both read by index on the hour.
WITH hours AS (
    SELECT DISTINCT unnest(%(hours)s::timestamptz[]) AS bucket_start
), ledger AS (
    SELECT event_hour AS bucket_start, sum(events) AS events
    FROM analytics_ingested_event_hours
    WHERE event_hour = ANY (%(hours)s::timestamptz[])
    GROUP BY event_hour
), measured AS (
    SELECT bucket_start, sum(request_count) AS requests
    FROM analytics_endpoint_hourly_metrics
    WHERE bucket_start = ANY (%(hours)s::timestamptz[]) AND organization_id IS NULL
    GROUP BY bucket_start
)
SELECT h.bucket_start
FROM hours AS h
LEFT JOIN ledger AS l USING (bucket_start)
LEFT JOIN measured AS m USING (bucket_start)
WHERE coalesce(l.events, 0) <> coalesce(m.requests, 0)
ORDER BY h.bucket_start
