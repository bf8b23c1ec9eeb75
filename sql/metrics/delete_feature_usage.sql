-- Remove the feature adoption rows of the days [first_day, end_day) being recomputed (same transaction).
WITH organizations AS (
    DELETE FROM analytics_org_feature_usage_daily WHERE day >= %(first_day)s AND day < %(end_day)s
)
DELETE FROM analytics_feature_adoption_daily WHERE day >= %(first_day)s AND day < %(end_day)s
