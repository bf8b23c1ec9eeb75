-- Repeats of an already-claimed (organization_id, request_id) whose content differs are
-- quarantined; repeats with equal content are plain duplicates and are only counted.
INSERT INTO analytics_quarantine (object_id, object_key, line_number, reason, detail)
SELECT
    %(object_id)s,
    %(object_key)s,
    i.line_number,
    'conflicting_duplicate',
    format('request_id %%s of %%s was first accepted from object %%s line %%s with different content',
           i.request_id, i.organization_id, k.object_id, k.line_number)
FROM incoming_lines AS i
JOIN analytics_event_keys AS k ON k.event_key = analytics_event_key(i.organization_id, i.request_id)
WHERE i.reason IS NULL
  AND i.content_hash <> k.content_hash
RETURNING line_number
