-- Days of [first_day, end_day) where DAU <= WAU <= MAU does not hold (or a trailing figure is missing), per
-- organization and for the platform (organization_id NULL); at most 20.
SELECT day, organization_id, active_users, wau, mau
FROM analytics_org_activity_daily
WHERE day >= %(first_day)s AND day < %(end_day)s
  AND (wau IS NULL OR mau IS NULL OR active_users > wau OR wau > mau)
UNION ALL
SELECT day, NULL, dau, wau, mau
FROM analytics_customer_activity_daily
WHERE day >= %(first_day)s AND day < %(end_day)s AND (dau > wau OR wau > mau)
ORDER BY 1, 2 NULLS FIRST
LIMIT 20
