-- The display names of models %(ids)s that have a directory entry.
SELECT model_id, display_name FROM analytics_models WHERE model_id = ANY(%(ids)s::text[])
