-- Active organization days of [first_day, end_day).
SELECT count(*) FROM analytics_org_activity_daily WHERE day >= %(first_day)s AND day < %(end_day)s
