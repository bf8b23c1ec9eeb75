-- The event hours that the live paths' batches (ingest API, Firehose, Kinesis) delivered since
-- %(since)s touched, and the newest such ledger entry: what the rollups must follow. Read by
-- delivery hour (indexed): a live batch's delivery hour is the hour it arrived.
SELECT coalesce(array_agg(DISTINCT h.event_hour ORDER BY h.event_hour), ARRAY[]::timestamptz[]) AS event_hours,
       max(o.object_id) AS last_object_id
FROM analytics_ingested_objects AS o
CROSS JOIN LATERAL unnest(o.event_hours) AS h (event_hour)
WHERE o.source = ANY (%(sources)s::text[]) AND o.delivery_hour >= %(since)s
