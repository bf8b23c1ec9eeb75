-- Each organization's use of each feature per UTC day of [range_start, range_end): requests and distinct users.
-- A feature is an endpoint, an agent type or a tool; one event can use one of each. Grouping per user first,
-- then per feature, gives exact distinct users with two hash aggregates and no sort (count of the per-user
-- groups with a user; events without one are requests only). The text keys compare bytewise (COLLATE "C").
WITH per_user AS (
    SELECT (e.event_time AT TIME ZONE 'UTC')::date AS day, e.organization_id, e.user_id, f.feature_kind,
           f.feature COLLATE "C" AS feature, count(*) AS request_count
    FROM analytics_events AS e
    CROSS JOIN LATERAL (VALUES ('endpoint', e.endpoint), ('agent_type', e.agent_type), ('tool', e.tool_name))
        AS f (feature_kind, feature)
    WHERE e.event_time >= %(range_start)s AND e.event_time < %(range_end)s AND f.feature IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5
)
INSERT INTO analytics_org_feature_usage_daily (day, feature_kind, feature, organization_id, request_count, users)
SELECT day, feature_kind, feature, organization_id, sum(request_count), count(user_id)
FROM per_user
GROUP BY day, feature_kind, feature, organization_id
