-- Every shard of a stream: parents, checkpoint, lease, progress (analytics-pipeline consume --status).
SELECT shard_id, parent_shard_ids, drained, checkpoint_sequence, lease_owner,
       lease_expires_at, lease_expires_at > now() AS lease_live, records_loaded, millis_behind_latest, last_loaded_at
FROM analytics_stream_shards
WHERE stream_name = %(stream)s
ORDER BY shard_id
