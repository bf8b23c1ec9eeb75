-- The platform's open incidents for the status page: critical alerts firing or acknowledged.
SELECT subject, summary, fired_at, status
FROM analytics_alerts
WHERE severity = 'critical' AND status IN ('firing', 'acknowledged')
ORDER BY fired_at, dedup_key
