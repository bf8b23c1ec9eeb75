-- Each organization's first use of each feature (endpoint, agent type, tool): the day, and how much it has used
-- it since (from analytics_org_feature_usage_daily, so always in step with it).
CREATE OR REPLACE VIEW analytics_view_feature_first_use AS
SELECT organization_id,
       feature_kind,
       feature,
       min(day) AS first_used_on,
       max(day) AS last_used_on,
       count(*) AS days_used,
       sum(request_count) AS request_count
FROM analytics_org_feature_usage_daily
GROUP BY organization_id, feature_kind, feature
