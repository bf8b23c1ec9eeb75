-- The ledger entry of a live batch (an ingest API batch, a Firehose request) by its key: what a
-- retry of the batch is answered with, the figures committed with its rows the first time.
SELECT object_id, etag, status, lines_read, accepted, duplicates, quarantined
FROM analytics_ingested_objects
WHERE source = %(source)s AND object_key = %(object_key)s
ORDER BY object_id
LIMIT 1
