-- Remove a month's revenue rows being recomputed (same transaction as the insert).
DELETE FROM analytics_monthly_revenue WHERE month = %(month)s
