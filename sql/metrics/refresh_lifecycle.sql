-- Each organization row of [first_day, refresh_end): the previous day it was active and its lifecycle on the
-- day: new (never active before), reactivated (back after more than churn_days days without activity, so
-- counted churned meanwhile), returning otherwise. The first row of an organization in the range looks its
-- previous active day up through the (organization_id, day) index, however far back.
WITH previous AS (
    SELECT day, organization_id,
           lag(day) OVER (PARTITION BY organization_id ORDER BY day) AS previous_day
    FROM analytics_org_activity_daily
    WHERE day >= %(first_day)s AND day < %(refresh_end)s
), resolved AS (
    SELECT p.day, p.organization_id,
           CASE WHEN p.previous_day IS NOT NULL THEN p.previous_day
                ELSE (SELECT max(b.day) FROM analytics_org_activity_daily AS b
                      WHERE b.organization_id = p.organization_id AND b.day < %(first_day)s) END AS previous_day
    FROM previous AS p
)
UPDATE analytics_org_activity_daily AS a
SET previous_active_day = r.previous_day,
    lifecycle = CASE WHEN r.previous_day IS NULL THEN 'new'
                     WHEN a.day - r.previous_day > %(churn_days)s THEN 'reactivated'
                     ELSE 'returning' END
FROM resolved AS r
WHERE a.day = r.day AND a.organization_id = r.organization_id
