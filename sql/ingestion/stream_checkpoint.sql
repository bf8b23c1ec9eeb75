-- A shard's checkpoint and progress, in the transaction of the rows it covers (or alone: the lag of
-- an idle shard, a closed shard drained): only while this consumer
-- holds an unexpired lease and the checkpoint is still the one it read after (else nothing is
-- updated and the loader rolls the rows back: another consumer has taken the shard over).
UPDATE analytics_stream_shards
SET checkpoint_sequence  = %(sequence)s,
    records_loaded       = records_loaded + %(records)s,
    millis_behind_latest = %(millis_behind)s,
    last_loaded_at       = CASE WHEN %(records)s > 0 THEN now() ELSE last_loaded_at END,
    drained              = %(drained)s,
    lease_owner          = CASE WHEN %(drained)s THEN NULL ELSE lease_owner END,
    lease_expires_at     = CASE WHEN %(drained)s THEN NULL ELSE lease_expires_at END
WHERE stream_name = %(stream)s AND shard_id = %(shard_id)s
  AND lease_owner = %(owner)s AND lease_expires_at > now()
  AND checkpoint_sequence IS NOT DISTINCT FROM %(previous)s
RETURNING shard_id
