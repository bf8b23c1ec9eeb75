-- Lines rejected before or by the contract, with their reason and capped raw text.
WITH objects AS (
    SELECT * FROM unnest(%(object_ids)s::bigint[], %(object_keys)s::text[]) AS o (object_id, object_key)
)
INSERT INTO analytics_quarantine
    (object_id, object_key, line_number, reason, detail, raw_text, raw_sha256, raw_size_bytes)
SELECT i.object_id, o.object_key, i.line_number, i.reason, i.detail, i.raw_text, i.raw_sha256, i.raw_size_bytes
FROM incoming_lines AS i
JOIN objects AS o ON o.object_id = i.object_id
WHERE i.reason IS NOT NULL
ORDER BY i.object_id, i.line_number
