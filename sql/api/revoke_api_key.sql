UPDATE analytics_api_keys
SET revoked_at = coalesce(revoked_at, %(now)s)
WHERE key_id = %(key_id)s
RETURNING key_id
