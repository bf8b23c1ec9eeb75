-- Alerts, open ones first, newest first; all of them or only the open ones.
SELECT dedup_key, rule, severity, status, subject, summary, fired_at, last_notified_at, acknowledged_at,
       acknowledged_by, resolved_at, updated_at
FROM analytics_alerts
WHERE status <> 'pending' AND (NOT %(open_only)s OR status IN ('firing', 'acknowledged'))
ORDER BY status IN ('firing', 'acknowledged') DESC, coalesce(fired_at, updated_at) DESC, dedup_key
LIMIT %(limit)s
