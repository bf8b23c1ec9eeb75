-- Every organization of the directory, and every organization with usage in the daily rollups without an entry
-- (named by its id), by name then id: what `analytics-pipeline orgs list` prints.
SELECT organization_id, display_name, plan, created_at
FROM analytics_organizations
UNION ALL
SELECT DISTINCT r.organization_id, r.organization_id, NULL::text, NULL::timestamptz
FROM analytics_daily_rollups AS r
WHERE NOT EXISTS (SELECT 1 FROM analytics_organizations AS o WHERE o.organization_id = r.organization_id)
ORDER BY 2, 1
