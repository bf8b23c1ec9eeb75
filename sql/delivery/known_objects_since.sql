-- Objects the ledger already holds (loaded or failed) among those delivered since a time.
SELECT object_key, etag
FROM analytics_ingested_objects
WHERE source = %(source)s AND delivery_hour >= %(since)s
