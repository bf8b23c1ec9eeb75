-- Remove the health scores of the days [first_day, end_day) being recomputed (same transaction as the COPY).
DELETE FROM analytics_customer_health_daily WHERE day >= %(first_day)s AND day < %(end_day)s
