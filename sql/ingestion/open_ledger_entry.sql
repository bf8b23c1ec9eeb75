-- The ledger row is written first, in the object's transaction: the unique (source, key, etag)
-- makes a concurrent ingest of the same object wait, then fail, instead of loading it twice.
INSERT INTO analytics_ingested_objects
    (source, object_key, etag, size_bytes, last_modified, delivery_hour, status, run_id)
VALUES
    (%(source)s, %(object_key)s, %(etag)s, %(size_bytes)s, %(last_modified)s, %(delivery_hour)s, 'loaded', %(run_id)s)
RETURNING object_id
