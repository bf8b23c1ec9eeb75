-- Each feature per day of [first_day, end_day), platform-wide: the organizations and users (the sum over
-- organizations: a user belongs to one) that used it, requests, and its share of the day's active
-- organizations (analytics_org_activity_daily, computed first by daily_activity).
WITH active AS (
    SELECT day, count(*) AS organizations
    FROM analytics_org_activity_daily
    WHERE day >= %(first_day)s AND day < %(end_day)s
    GROUP BY day
)
INSERT INTO analytics_feature_adoption_daily (day, feature_kind, feature, organizations, users, request_count,
                                              active_organizations, organization_share)
SELECT f.day, f.feature_kind, f.feature, count(*), sum(f.users), sum(f.request_count),
       coalesce(a.organizations, count(*)),
       count(*)::double precision / coalesce(a.organizations, count(*))
FROM analytics_org_feature_usage_daily AS f
LEFT JOIN active AS a ON a.day = f.day
WHERE f.day >= %(first_day)s AND f.day < %(end_day)s
GROUP BY f.day, f.feature_kind, f.feature, a.organizations
