-- Remove the activity rows of the days [first_day, end_day) being recomputed (same transaction as the inserts).
WITH users AS (
    DELETE FROM analytics_user_activity_daily WHERE day >= %(first_day)s AND day < %(end_day)s
), organizations AS (
    DELETE FROM analytics_org_activity_daily WHERE day >= %(first_day)s AND day < %(end_day)s
)
DELETE FROM analytics_customer_activity_daily WHERE day >= %(first_day)s AND day < %(end_day)s
