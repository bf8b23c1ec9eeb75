-- Sign-out: the session ends now (a second sign-out keeps the first time).
UPDATE analytics_portal_sessions
SET ended_at = %(now)s
WHERE session_sha256 = %(session_sha256)s AND ended_at IS NULL
