INSERT INTO analytics_api_keys (key_id, secret_sha256, name, scope, organization_id, created_at, expires_at)
VALUES (%(key_id)s, %(secret_sha256)s, %(name)s, %(scope)s, %(organization_id)s, %(created_at)s, %(expires_at)s)
RETURNING key_id, secret_sha256, name, scope, organization_id, created_at, expires_at, revoked_at
