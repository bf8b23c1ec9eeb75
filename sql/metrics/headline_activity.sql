-- The platform's activity on the last computed day of [first_day, end_day): active customers that day and in
-- the month to date, new and churned customers of the month, DAU, MAU and stickiness.
SELECT day, active_customers, month_active_customers, month_new_customers, month_churned_customers, dau, mau,
       stickiness
FROM analytics_customer_activity_daily
WHERE day >= %(first_day)s AND day < %(end_day)s
ORDER BY day DESC
LIMIT 1
