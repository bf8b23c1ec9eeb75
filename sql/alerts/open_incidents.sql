-- The platform's open incidents for the public status page: critical alerts firing or acknowledged, with
-- the kind of their rule (the page titles them by kind; an organization's own alerts are never shown, nor the
-- pipeline's failed runs and checks: internal, and not an outage of the API).
SELECT details ->> 'kind' AS kind, subject, fired_at, status
FROM analytics_alerts
WHERE severity = 'critical' AND status IN ('firing', 'acknowledged')
  AND coalesce(details ->> 'kind', '') NOT IN ('organization_error_rate', 'run_failure', 'asset_check')
ORDER BY fired_at, dedup_key
