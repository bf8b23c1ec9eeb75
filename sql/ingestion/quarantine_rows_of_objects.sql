-- How many quarantine rows the warehouse holds for the objects %(object_ids)s.
SELECT count(*) FROM analytics_quarantine WHERE object_id = ANY (%(object_ids)s::bigint[])
