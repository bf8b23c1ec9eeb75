-- Archived days that ingestion may have added late events to since their archive: a ledger entry
-- (an S3 object, or a live path's delivery: ingest API batch, Firehose request, Kinesis shard
-- range) with accepted events spanning the day was ingested after the archive's snapshot, or up
-- to a margin before it (its transaction may still have been open, invisible to the snapshot).
-- Only these days (and days about to be dropped) have their rows counted again.
WITH archived AS (
    SELECT day, archived_at FROM analytics_raw_archives WHERE dropped_at IS NULL AND day <= %(last_day)s
),
last_ingest_per_day AS (
    SELECT span.day::date AS day, max(o.ingested_at) AS last_ingested_at
    FROM analytics_ingested_objects o
    CROSS JOIN LATERAL generate_series(o.min_event_time::date, o.max_event_time::date, interval '1 day') AS span(day)
    WHERE o.accepted > 0
      AND o.ingested_at >= (SELECT min(archived_at) FROM archived) - %(margin)s
    GROUP BY 1
)
SELECT archived.day
FROM archived JOIN last_ingest_per_day USING (day)
WHERE last_ingest_per_day.last_ingested_at >= archived.archived_at - %(margin)s
ORDER BY archived.day
