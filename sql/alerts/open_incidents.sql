-- The platform's open incidents for the public status page: critical alerts firing or acknowledged, with
-- the kind of their rule (the page titles them by kind; an organization's own alerts are never shown).
SELECT details ->> 'kind' AS kind, subject, fired_at, status
FROM analytics_alerts
WHERE severity = 'critical' AND status IN ('firing', 'acknowledged')
  AND coalesce(details ->> 'kind', '') <> 'organization_error_rate'
ORDER BY fired_at, dedup_key
