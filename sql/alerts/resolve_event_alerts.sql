-- The open alerts of one event rule about one subject, resolved: what failed has succeeded since.
UPDATE analytics_alerts
SET status = %(status)s, resolved_at = %(now)s, clear_since = %(now)s, updated_at = %(now)s
WHERE rule = %(rule)s AND subject = %(subject)s AND status IN ('firing', 'acknowledged')
  AND (%(before)s::timestamptz IS NULL OR fired_at < %(before)s::timestamptz)
RETURNING dedup_key, severity, summary, details
