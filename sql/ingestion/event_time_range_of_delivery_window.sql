-- The event-time range of the objects delivered in [range_start, range_end), and how many
-- events the ledger says they hold (NULL range: no events to look at).
SELECT min(min_event_time) AS events_from,
       max(max_event_time) AS events_to,
       count(*) AS objects,
       coalesce(sum(accepted), 0)::bigint AS accepted
FROM analytics_ingested_objects
WHERE source = %(source)s AND delivery_hour >= %(range_start)s AND delivery_hour < %(range_end)s
