-- Ledger totals over the objects delivered in [range_start, range_end), beside what the
-- warehouse holds for them: their stored events (scanned only within the objects' event-time
-- range, so partitions are pruned) and their quarantine rows.
WITH objects AS (
    SELECT object_id, lines_read, accepted, duplicates, quarantined, min_event_time, max_event_time
    FROM analytics_ingested_objects
    WHERE source = %(source)s AND delivery_hour >= %(range_start)s AND delivery_hour < %(range_end)s
)
SELECT count(*) AS objects,
       coalesce(sum(lines_read), 0)::bigint AS lines_read,
       coalesce(sum(accepted), 0)::bigint AS accepted,
       coalesce(sum(duplicates), 0)::bigint AS duplicates,
       coalesce(sum(quarantined), 0)::bigint AS quarantined,
       count(*) FILTER (WHERE lines_read <> accepted + duplicates + quarantined) AS objects_not_adding_up,
       (SELECT count(*) FROM analytics_events AS e
         WHERE e.event_time >= (SELECT min(min_event_time) FROM objects)
           AND e.event_time <= (SELECT max(max_event_time) FROM objects)
           AND e.object_id IN (SELECT object_id FROM objects)) AS stored_events,
       (SELECT count(*) FROM analytics_quarantine AS q
         WHERE q.object_id IN (SELECT object_id FROM objects)) AS stored_quarantine_rows
FROM objects
