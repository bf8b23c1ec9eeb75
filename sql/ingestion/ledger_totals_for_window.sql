-- Ledger totals over the objects delivered in [range_start, range_end), beside what the
-- warehouse holds for them: their stored events (scanned only within the objects' event-time
-- range, so partitions are pruned) and their quarantine rows.
-- Retention legitimately removes some of what the ledger counted, so those objects are left
-- out of the stored-vs-ledger comparison (their lines must still add up):
-- * quarantine rows of objects ingested before %(quarantine_kept_since)s (the caller's cutoff:
--   an object's quarantine rows are written in its ledger row's transaction, so no later);
-- * events of objects with an event day whose partition was dropped (analytics_raw_archives).
-- Days are UTC days, as the event partitions are.
WITH objects AS (
    SELECT o.object_id, o.lines_read, o.accepted, o.duplicates, o.quarantined, o.min_event_time, o.max_event_time,
           o.ingested_at < %(quarantine_kept_since)s AS quarantine_expired,
           EXISTS (SELECT 1 FROM analytics_raw_archives AS a
                    WHERE a.dropped_at IS NOT NULL
                      AND a.day BETWEEN (o.min_event_time AT TIME ZONE 'UTC')::date
                                    AND (o.max_event_time AT TIME ZONE 'UTC')::date) AS events_dropped
    FROM analytics_ingested_objects AS o
    WHERE o.source = %(source)s AND o.delivery_hour >= %(range_start)s AND o.delivery_hour < %(range_end)s
),
events_compared AS (
    SELECT object_id, min_event_time, max_event_time FROM objects WHERE NOT events_dropped
)
SELECT count(*) AS objects,
       coalesce(sum(lines_read), 0)::bigint AS lines_read,
       coalesce(sum(accepted), 0)::bigint AS accepted,
       coalesce(sum(duplicates), 0)::bigint AS duplicates,
       coalesce(sum(quarantined), 0)::bigint AS quarantined,
       count(*) FILTER (WHERE lines_read <> accepted + duplicates + quarantined) AS objects_not_adding_up,
       (SELECT count(*) FROM analytics_events AS e
         WHERE e.event_time >= (SELECT min(min_event_time) FROM events_compared)
           AND e.event_time <= (SELECT max(max_event_time) FROM events_compared)
           AND e.object_id IN (SELECT object_id FROM events_compared)) AS stored_events,
       (SELECT count(*) FROM analytics_quarantine AS q
         WHERE q.object_id IN (SELECT object_id FROM objects WHERE NOT quarantine_expired)) AS stored_quarantine_rows,
       count(*) FILTER (WHERE events_dropped) AS objects_with_dropped_days,
       coalesce(sum(accepted) FILTER (WHERE NOT events_dropped), 0)::bigint AS accepted_compared,
       count(*) FILTER (WHERE quarantine_expired) AS objects_past_quarantine_retention,
       coalesce(sum(quarantined) FILTER (WHERE NOT quarantine_expired), 0)::bigint AS quarantined_compared
FROM objects
