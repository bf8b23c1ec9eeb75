DELETE FROM analytics_ci_duration_trends
WHERE day >= %(first_day)s AND day < %(end_day)s
