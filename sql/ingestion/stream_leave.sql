-- A consumer stopping leaves the stream: its shards are handed back at once (not when the
-- leases run out) and it no longer counts in the others' fair shares.
WITH left_stream AS (
    DELETE FROM analytics_stream_consumers WHERE stream_name = %(stream)s AND consumer_id = %(owner)s
)
UPDATE analytics_stream_shards
SET lease_owner = NULL, lease_expires_at = NULL
WHERE stream_name = %(stream)s AND lease_owner = %(owner)s
