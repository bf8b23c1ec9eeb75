-- Remove the infrastructure cost rows of the days being reloaded (same transaction as the insert).
DELETE FROM analytics_infra_costs
WHERE usage_date = ANY(%(days)s::date[])
