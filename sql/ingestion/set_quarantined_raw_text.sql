UPDATE analytics_quarantine
SET raw_text = %(raw_text)s, raw_sha256 = %(raw_sha256)s, raw_size_bytes = %(raw_size_bytes)s
WHERE object_id = %(object_id)s AND line_number = %(line_number)s
