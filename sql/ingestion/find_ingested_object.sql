SELECT object_id, status
FROM analytics_ingested_objects
WHERE source = %(source)s AND object_key = %(object_key)s AND etag = %(etag)s
