-- Repeats whose content differs from the line that claimed their (organization_id, request_id)
-- are quarantined; repeats with equal content are plain duplicates and are only counted.
WITH objects AS (
    SELECT * FROM unnest(%(object_ids)s::bigint[], %(object_keys)s::text[]) AS o (object_id, object_key)
)
INSERT INTO analytics_quarantine (object_id, object_key, line_number, reason, detail)
SELECT
    r.object_id,
    o.object_key,
    r.line_number,
    'conflicting_duplicate',
    format('request_id %%s of %%s was first accepted from object %%s line %%s with different content',
           r.request_id, r.organization_id, k.object_id, k.line_number)
FROM incoming_repeats AS r
JOIN analytics_event_keys AS k ON k.event_key = analytics_event_key(r.organization_id, r.request_id)
JOIN objects AS o ON o.object_id = r.object_id
WHERE r.content_hash <> k.content_hash
ORDER BY r.object_id, r.line_number
RETURNING object_id, line_number
