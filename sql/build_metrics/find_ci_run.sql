-- The run already holding a run_id, and the file it was loaded from.
SELECT r.content_hash, o.object_key
FROM analytics_ci_runs AS r
JOIN analytics_ingested_objects AS o USING (object_id)
WHERE r.run_id = %(run_id)s
