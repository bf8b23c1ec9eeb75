-- A portal session still open at %(now)s, with its key's row (read fresh: a key revoked since sign-in is seen
-- on the next page). The key columns come in the order of sql/api/find_api_key.sql.
SELECT s.expires_at,
       k.key_id, k.secret_sha256, k.name, k.scope, k.organization_id, k.created_at, k.expires_at, k.revoked_at
FROM analytics_portal_sessions AS s
JOIN analytics_api_keys AS k ON k.key_id = s.key_id
WHERE s.session_sha256 = %(session_sha256)s
  AND s.ended_at IS NULL
  AND s.expires_at > %(now)s
