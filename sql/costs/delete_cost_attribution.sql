-- Remove the attribution rows of [range_start, range_end) before writing them again (same transaction).
DELETE FROM analytics_tenant_cost_attribution
WHERE usage_date >= (%(range_start)s::timestamptz AT TIME ZONE 'UTC')::date
  AND usage_date <  (%(range_end)s::timestamptz AT TIME ZONE 'UTC')::date
