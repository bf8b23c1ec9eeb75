-- The newest data of the raw events as of %(as_of)s. Events are searched from %(since)s on, so only
-- the newest day partitions are scanned; event times after as_of (a client clock running ahead,
-- or a reading as of the past) do not count. With no event since then, the ledger's newest event
-- time stands in. Then the newest ingestion and the newest delivery hour loaded.
SELECT coalesce(
           (SELECT max(event_time) FROM analytics_events
             WHERE event_time >= %(since)s AND event_time <= %(as_of)s),
           (SELECT max(max_event_time) FROM analytics_ingested_objects
             WHERE source = %(source)s AND status = 'loaded' AND max_event_time <= %(as_of)s)) AS newest_event_time,
       (SELECT max(ingested_at) FROM analytics_ingested_objects
         WHERE source = %(source)s AND status = 'loaded' AND ingested_at <= %(as_of)s) AS newest_ingestion,
       (SELECT max(delivery_hour) FROM analytics_ingested_objects
         WHERE source = %(source)s AND status = 'loaded' AND delivery_hour <= %(as_of)s) AS newest_delivery_hour
