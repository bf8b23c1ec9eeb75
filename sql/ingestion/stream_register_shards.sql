-- The shards of a stream as ListShards gives them (new shards after a split or merge included),
-- each with its parents: a child is read only once its parents are drained.
INSERT INTO analytics_stream_shards (stream_name, shard_id, parent_shard_ids)
SELECT %(stream)s, s.shard_id, coalesce(string_to_array(nullif(s.parents, ''), ','), ARRAY[]::text[])
FROM unnest(%(shard_ids)s::text[], %(parents)s::text[]) AS s (shard_id, parents)
ON CONFLICT (stream_name, shard_id) DO NOTHING
