-- What an activity run wrote over the days [first_day, end_day): the last day's platform figures and the
-- window's totals, for the materialization's metadata.
SELECT (SELECT count(*) FROM analytics_org_activity_daily WHERE day >= %(first_day)s AND day < %(end_day)s),
       (SELECT count(*) FROM analytics_user_activity_daily WHERE day >= %(first_day)s AND day < %(end_day)s),
       (SELECT coalesce(sum(request_count), 0)::bigint FROM analytics_org_activity_daily
         WHERE day >= %(first_day)s AND day < %(end_day)s),
       c.day, c.active_customers, c.new_customers, c.returning_customers, c.reactivated_customers,
       c.churned_customers, c.month_active_customers, c.month_new_customers, c.month_churned_customers,
       c.dau, c.wau, c.mau, c.stickiness
FROM analytics_customer_activity_daily AS c
WHERE c.day = %(end_day)s::date - 1
