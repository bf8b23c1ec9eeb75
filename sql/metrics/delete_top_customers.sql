-- Remove a month's rankings being recomputed (same transaction as the insert).
DELETE FROM analytics_top_customers WHERE month = %(month)s
