-- The open alerts of one event rule: what a later success may resolve.
SELECT subject, details
FROM analytics_alerts
WHERE rule = %(rule)s AND status IN ('firing', 'acknowledged')
ORDER BY fired_at, dedup_key
