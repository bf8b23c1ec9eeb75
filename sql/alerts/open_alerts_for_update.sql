-- The alerts not resolved (pending, firing, acknowledged), locked for this evaluation's transaction.
SELECT dedup_key, rule, severity, status, subject, summary, first_seen_at, fired_at, last_notified_at, clear_since,
       acknowledged_at
FROM analytics_alerts
WHERE status <> 'resolved'
ORDER BY dedup_key
FOR UPDATE
