-- The ledger rows of the objects delivered in [range_start, range_end), with what retention may
-- have removed of them (so those are left out of the stored-vs-ledger comparison; their lines
-- must still add up):
-- * quarantine rows of objects ingested before %(quarantine_kept_since)s (the caller's cutoff:
--   an object's quarantine rows are written in its ledger row's transaction, so no later);
-- * events of objects with an event day whose partition was dropped (analytics_raw_archives).
-- Days are UTC days, as the event partitions are.
SELECT o.object_id, o.lines_read, o.accepted, o.duplicates, o.quarantined, o.min_event_time, o.max_event_time,
       o.ingested_at < %(quarantine_kept_since)s AS quarantine_expired,
       EXISTS (SELECT 1 FROM analytics_raw_archives AS a
                WHERE a.dropped_at IS NOT NULL
                  AND a.day BETWEEN (o.min_event_time AT TIME ZONE 'UTC')::date
                                AND (o.max_event_time AT TIME ZONE 'UTC')::date) AS events_dropped
FROM analytics_ingested_objects AS o
WHERE o.source = %(source)s AND o.delivery_hour >= %(range_start)s AND o.delivery_hour < %(range_end)s
ORDER BY o.object_id
