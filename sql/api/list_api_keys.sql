SELECT key_id, secret_sha256, name, scope, organization_id, created_at, expires_at, revoked_at
FROM analytics_api_keys
ORDER BY created_at, key_id
