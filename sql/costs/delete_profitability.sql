-- Remove a month's profitability rows (complete or month to date) before writing them again (same transaction).
DELETE FROM analytics_tenant_profitability
WHERE period_start = %(period_start)s
