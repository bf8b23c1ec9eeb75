-- The organizations whose first use of a feature ever falls in [first_day, end_day), and when.
SELECT f.organization_id, f.feature_kind, f.feature, min(f.day) AS first_used_on
FROM analytics_org_feature_usage_daily AS f
WHERE f.day >= %(first_day)s AND f.day < %(end_day)s
  AND NOT EXISTS (SELECT FROM analytics_org_feature_usage_daily AS earlier
                  WHERE earlier.organization_id = f.organization_id AND earlier.feature_kind = f.feature_kind
                    AND earlier.feature = f.feature AND earlier.day < %(first_day)s)
GROUP BY f.organization_id, f.feature_kind, f.feature
ORDER BY first_used_on, f.feature_kind, f.feature, f.organization_id
