INSERT INTO analytics_quarantine
    (object_id, object_key, line_number, reason, detail, raw_text, raw_sha256, raw_size_bytes)
SELECT %(object_id)s, %(object_key)s, line_number, reason, detail, raw_text, raw_sha256, raw_size_bytes
FROM incoming_lines
WHERE reason IS NOT NULL
