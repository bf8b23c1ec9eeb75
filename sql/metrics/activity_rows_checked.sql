-- How many organization days of [first_day, end_day) the activity holds, and their requests.
SELECT count(*), coalesce(sum(request_count), 0)::bigint
FROM analytics_org_activity_daily
WHERE day >= %(first_day)s AND day < %(end_day)s
