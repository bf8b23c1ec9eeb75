-- Hand back this consumer's leases but those it keeps: the shards beyond its fair share (for a
-- consumer that joined) instead of letting those leases run out.
UPDATE analytics_stream_shards
SET lease_owner = NULL, lease_expires_at = NULL
WHERE stream_name = %(stream)s AND lease_owner = %(owner)s AND NOT (shard_id = ANY (%(keep)s::text[]))
