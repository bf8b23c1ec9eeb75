-- The platform rows of [first_day, refresh_end) that exist: active, new, returning, reactivated and churned
-- customers of the day and of the month to date, requests, DAU (the sum over organizations: a user belongs to
-- one) and stickiness (DAU / the MAU refresh_trailing_activity.sql set), from the organization rows.
-- churned on day d: the organizations whose last activity was on d - churn_days (churn_days days without any);
-- month_churned_customers: active in the previous month and not (yet) in this month, through d.
WITH days AS (
    SELECT day, date_trunc('month', day::timestamp)::date AS month_start
    FROM analytics_customer_activity_daily
    WHERE day >= %(first_day)s AND day < %(refresh_end)s
), organizations AS (
    SELECT day,
           count(*) AS active,
           count(*) FILTER (WHERE lifecycle = 'new') AS new,
           count(*) FILTER (WHERE lifecycle = 'reactivated') AS reactivated,
           sum(request_count) AS request_count,
           sum(active_users) AS dau
    FROM analytics_org_activity_daily
    WHERE day >= %(first_day)s AND day < %(refresh_end)s
    GROUP BY day
), churned AS (
    SELECT d.day, count(*) AS churned
    FROM days AS d
    JOIN analytics_org_activity_daily AS a ON a.day = d.day - %(churn_days)s::integer
    WHERE NOT EXISTS (SELECT FROM analytics_org_activity_daily AS b
                      WHERE b.organization_id = a.organization_id AND b.day > a.day AND b.day <= d.day)
    GROUP BY d.day
), month_to_date AS (
    SELECT d.day, count(DISTINCT a.organization_id) AS active,
           count(*) FILTER (WHERE a.lifecycle = 'new') AS new
    FROM days AS d
    JOIN analytics_org_activity_daily AS a ON a.day >= d.month_start AND a.day <= d.day
    GROUP BY d.day
), previous_month AS (
    SELECT DISTINCT (date_trunc('month', day::timestamp) + interval '1 month')::date AS month_start, organization_id
    FROM analytics_org_activity_daily
    WHERE day >= (SELECT min(month_start) FROM days) - interval '1 month'
      AND day < (SELECT max(month_start) FROM days)
), month_churned AS (
    SELECT d.day, count(*) AS churned
    FROM days AS d
    JOIN previous_month AS p ON p.month_start = d.month_start
    WHERE NOT EXISTS (SELECT FROM analytics_org_activity_daily AS b
                      WHERE b.organization_id = p.organization_id AND b.day >= d.month_start AND b.day <= d.day)
    GROUP BY d.day
)
UPDATE analytics_customer_activity_daily AS c
SET active_customers = coalesce(o.active, 0),
    new_customers = coalesce(o.new, 0),
    returning_customers = coalesce(o.active - o.new, 0),
    reactivated_customers = coalesce(o.reactivated, 0),
    churned_customers = coalesce(ch.churned, 0),
    month_active_customers = coalesce(m.active, 0),
    month_new_customers = coalesce(m.new, 0),
    month_returning_customers = coalesce(m.active - m.new, 0),
    month_churned_customers = coalesce(mc.churned, 0),
    request_count = coalesce(o.request_count, 0),
    dau = coalesce(o.dau, 0),
    stickiness = coalesce(o.dau, 0)::double precision / nullif(c.mau, 0),
    churn_inactive_days = %(churn_days)s,
    computed_at = now()
FROM days AS d
LEFT JOIN organizations AS o ON o.day = d.day
LEFT JOIN churned AS ch ON ch.day = d.day
LEFT JOIN month_to_date AS m ON m.day = d.day
LEFT JOIN month_churned AS mc ON mc.day = d.day
WHERE c.day = d.day
