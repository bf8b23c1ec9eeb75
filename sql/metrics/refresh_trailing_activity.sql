-- WAU and MAU (exact distinct users of the 7 and 30 days through each day) of the organization rows and of the
-- platform rows of [first_day, refresh_end): the days recomputed and the later days whose windows hold them;
-- the organizations' stickiness (DAU / MAU) too. One sorted pass over the user days, not a distinct count per
-- day: a user counts on the n days from each of its active days; where a run of such covered days starts (no
-- active day in the n days before) it adds +1, and n days after the run's last active day -1; the running sum
-- of these edges is the number of distinct users of the n days, per organization and, summed over
-- organizations (a user belongs to one), for the platform, on days without any activity too.
-- User days before first_day - 29 cannot reach a day >= first_day, so they are not read.
WITH user_days AS (
    SELECT organization_id, user_id, day,
           lag(day) OVER w AS previous_day,
           lead(day) OVER w AS next_day
    FROM analytics_user_activity_daily
    WHERE day >= %(first_day)s::date - 29 AND day < %(refresh_end)s
    WINDOW w AS (PARTITION BY organization_id, user_id ORDER BY day)
), edges AS MATERIALIZED (
    SELECT organization_id, day AS at, 1 AS mau_edge, 0 AS wau_edge
    FROM user_days WHERE previous_day IS NULL OR day - previous_day > 30
    UNION ALL
    SELECT organization_id, day + 30, -1, 0 FROM user_days WHERE next_day IS NULL OR next_day - day > 30
    UNION ALL
    SELECT organization_id, day, 0, 1 FROM user_days WHERE previous_day IS NULL OR day - previous_day > 7
    UNION ALL
    SELECT organization_id, day + 7, 0, -1 FROM user_days WHERE next_day IS NULL OR next_day - day > 7
), organization_running AS (
    SELECT organization_id, at, sum(sum(mau_edge)) OVER o AS mau, sum(sum(wau_edge)) OVER o AS wau
    FROM (SELECT * FROM edges
          UNION ALL  -- a zero edge on every row to update, so each has a running sum of its own
          SELECT organization_id, day, 0, 0 FROM analytics_org_activity_daily
          WHERE day >= %(first_day)s AND day < %(refresh_end)s) AS e
    GROUP BY organization_id, at
    WINDOW o AS (PARTITION BY organization_id ORDER BY at)
), platform_running AS (
    SELECT at, sum(sum(mau_edge)) OVER (ORDER BY at) AS mau, sum(sum(wau_edge)) OVER (ORDER BY at) AS wau
    FROM (SELECT at, mau_edge, wau_edge FROM edges
          UNION ALL
          SELECT day, 0, 0 FROM analytics_customer_activity_daily
          WHERE day >= %(first_day)s AND day < %(refresh_end)s) AS e
    GROUP BY at
), organizations AS (
    UPDATE analytics_org_activity_daily AS a
    SET wau = r.wau, mau = r.mau, stickiness = a.active_users::double precision / nullif(r.mau, 0)
    FROM organization_running AS r
    WHERE a.day >= %(first_day)s AND a.day < %(refresh_end)s
      AND r.organization_id = a.organization_id AND r.at = a.day
)
UPDATE analytics_customer_activity_daily AS c
SET wau = r.wau, mau = r.mau
FROM platform_running AS r
WHERE c.day >= %(first_day)s AND c.day < %(refresh_end)s AND r.at = c.day
