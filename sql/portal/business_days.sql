-- The business page's trend: the platform per UTC day of [first_day, end_day): active, new and churned
-- customers, requests, DAU, WAU, MAU and stickiness (analytics_customer_activity_daily).
SELECT day, active_customers, new_customers, churned_customers, request_count, dau, wau, mau, stickiness,
       month_active_customers
FROM analytics_customer_activity_daily
WHERE day >= %(first_day)s AND day < %(end_day)s
ORDER BY day
