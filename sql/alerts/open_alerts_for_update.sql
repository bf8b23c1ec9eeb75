-- The platform rules' alerts not resolved (pending, firing, acknowledged), locked for this evaluation's
-- transaction; the pipeline's event alerts (failed runs and checks) have their own lifecycle.
SELECT dedup_key, rule, severity, status, subject, summary, first_seen_at, fired_at, last_notified_at, clear_since,
       acknowledged_at
FROM analytics_alerts
WHERE status <> 'resolved' AND NOT (rule = ANY(%(event_rules)s))
ORDER BY dedup_key
FOR UPDATE
