-- A condition that cleared before its hold time ended: it never fired, so it leaves no alert behind.
DELETE FROM analytics_alerts WHERE dedup_key = %(dedup_key)s AND status = 'pending'
