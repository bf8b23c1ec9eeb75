-- Take or renew this consumer's leases: shards not drained whose parents are drained, free,
-- expired (their holder died) or already ours, up to a fair share (the open shards over the
-- consumers alive on the stream), ours first; the consumer then hands back what it holds beyond
-- that (stream_release_leases), for a consumer that joined. The database's clock decides
-- expiry, so consumers' clocks need not agree. SKIP LOCKED: consumers never wait on each other here.
WITH share AS (
    SELECT greatest(1, ceil(
        (SELECT count(*) FROM analytics_stream_shards WHERE stream_name = %(stream)s AND NOT drained)::numeric
        / greatest(1, (SELECT count(*) FROM analytics_stream_consumers
                       WHERE stream_name = %(stream)s AND alive_until > now())))) AS shards
), candidates AS (
    SELECT s.shard_id
    FROM analytics_stream_shards AS s
    WHERE s.stream_name = %(stream)s
      AND NOT s.drained
      AND (s.lease_owner IS NULL OR s.lease_expires_at <= now() OR s.lease_owner = %(owner)s)
      AND NOT EXISTS (SELECT FROM analytics_stream_shards AS p
                      WHERE p.stream_name = s.stream_name AND p.shard_id = ANY (s.parent_shard_ids) AND NOT p.drained)
    ORDER BY s.lease_owner IS NOT DISTINCT FROM %(owner)s DESC, s.shard_id
    LIMIT (SELECT shards FROM share)
    FOR UPDATE SKIP LOCKED
)
UPDATE analytics_stream_shards AS s
SET lease_owner = %(owner)s, lease_expires_at = now() + make_interval(secs => %(lease_seconds)s)
FROM candidates AS c
WHERE s.stream_name = %(stream)s AND s.shard_id = c.shard_id
RETURNING s.shard_id, s.checkpoint_sequence
