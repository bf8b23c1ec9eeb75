-- The ledger row of one object, claimed in the loading transaction: none comes back when that key and etag
-- were loaded before (or by a concurrent load, which then holds it), so an object is loaded once.
INSERT INTO analytics_metric_stream_objects (object_key, etag, delivery_hour, ingested_at)
VALUES (%(object_key)s, %(etag)s, %(delivery_hour)s, %(now)s)
ON CONFLICT (object_key, etag) DO NOTHING
RETURNING object_id
