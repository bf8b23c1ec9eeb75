-- The ledger rows of a group's objects, written first in the group's transaction. The unique
-- (source, key, etag) makes a concurrent ingest of the same object wait for this one; the rows
-- go in in key order, so two loaders whose groups overlap wait on each other instead of
-- deadlocking. Objects already in the ledger (committed by another run meanwhile, or listed
-- twice) come back without a row and are skipped.
INSERT INTO analytics_ingested_objects
    (source, object_key, etag, size_bytes, last_modified, delivery_hour, status, run_id)
SELECT %(source)s, o.object_key, o.etag, o.size_bytes, o.last_modified, o.delivery_hour, 'loaded', %(run_id)s
FROM unnest(%(object_keys)s::text[], %(etags)s::text[], %(sizes)s::bigint[], %(last_modified)s::timestamptz[],
            %(delivery_hours)s::timestamptz[]) AS o (object_key, etag, size_bytes, last_modified, delivery_hour)
ORDER BY o.object_key, o.etag
ON CONFLICT (source, object_key, etag) DO NOTHING
RETURNING object_key, etag, object_id
