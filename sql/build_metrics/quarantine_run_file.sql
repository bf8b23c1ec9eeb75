-- A rejected run file: one quarantine row for the whole file (line_number NULL).
INSERT INTO analytics_quarantine
    (object_id, object_key, line_number, reason, detail, raw_text, raw_sha256, raw_size_bytes)
VALUES
    (%(object_id)s, %(object_key)s, NULL, %(reason)s, %(detail)s, %(raw_text)s, %(raw_sha256)s, %(raw_size_bytes)s)
