-- Every alert firing or acknowledged, most severe first (the SRE page's panel).
SELECT dedup_key, severity, status, summary, fired_at, acknowledged_by
FROM analytics_alerts
WHERE status IN ('firing', 'acknowledged')
ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, fired_at, dedup_key
LIMIT 50
