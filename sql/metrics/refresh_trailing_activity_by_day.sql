-- WAU and MAU of the organization and platform rows of [first_day, refresh_end), one day at a time: the distinct
-- users of the 30 days through each day, by hashing (organization, user) with its last active day. The same
-- figures as refresh_trailing_activity.sql, cheaper when only a day or two need them (the daily run: reading a
-- day's 30 days of user days once), dearer for a month, where the sorted pass shares the work across days.
WITH days AS (
    SELECT day FROM analytics_customer_activity_daily WHERE day >= %(first_day)s AND day < %(refresh_end)s
), users AS (
    SELECT d.day, u.organization_id, u.user_id, max(u.day) AS last_active_day
    FROM days AS d
    JOIN analytics_user_activity_daily AS u ON u.day > d.day - 30 AND u.day <= d.day
    GROUP BY d.day, u.organization_id, u.user_id
), per_organization AS (
    SELECT day, organization_id,
           count(*) FILTER (WHERE last_active_day > day - 7) AS wau,
           count(*) AS mau
    FROM users
    GROUP BY day, organization_id
), organizations AS (
    UPDATE analytics_org_activity_daily AS a
    SET wau = coalesce(p.wau, 0), mau = coalesce(p.mau, 0),
        stickiness = a.active_users::double precision / nullif(p.mau, 0)
    FROM analytics_org_activity_daily AS b
    LEFT JOIN per_organization AS p ON p.day = b.day AND p.organization_id = b.organization_id
    WHERE a.day >= %(first_day)s AND a.day < %(refresh_end)s
      AND b.day = a.day AND b.organization_id = a.organization_id
)
UPDATE analytics_customer_activity_daily AS c
SET wau = coalesce(t.wau, 0), mau = coalesce(t.mau, 0)
FROM days AS d
LEFT JOIN (SELECT day, sum(wau) AS wau, sum(mau) AS mau FROM per_organization GROUP BY day) AS t ON t.day = d.day
WHERE c.day = d.day
