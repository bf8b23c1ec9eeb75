-- How many computed days [first_day, refresh_end) holds: the days whose WAU and MAU a window refreshes.
SELECT count(*) FROM analytics_customer_activity_daily WHERE day >= %(first_day)s AND day < %(refresh_end)s
