-- A new portal session of a key: only the SHA-256 of its id is stored.
INSERT INTO analytics_portal_sessions (session_sha256, key_id, created_at, expires_at, client_address)
VALUES (%(session_sha256)s, %(key_id)s, %(created_at)s, %(expires_at)s, %(client_address)s)
