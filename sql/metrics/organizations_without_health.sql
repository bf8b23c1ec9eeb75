-- Organizations active on a day of [first_day, end_day) without a health score that day (at most 20), and how
-- many active organization days there are.
SELECT a.day, a.organization_id, count(*) OVER () AS missing,
       (SELECT count(*) FROM analytics_org_activity_daily WHERE day >= %(first_day)s AND day < %(end_day)s)
FROM analytics_org_activity_daily AS a
WHERE a.day >= %(first_day)s AND a.day < %(end_day)s
  AND NOT EXISTS (SELECT FROM analytics_customer_health_daily AS h
                  WHERE h.day = a.day AND h.organization_id = a.organization_id)
ORDER BY a.day, a.organization_id
LIMIT 20
