-- Each organization's use of each feature per UTC day of [range_start, range_end): requests and distinct users.
-- A feature is an endpoint, an agent type or a tool; one event can use one of each. The events are first
-- grouped per (day, organization, user, endpoint, agent type, tool), which the three features then share.
WITH uses AS (
    SELECT (event_time AT TIME ZONE 'UTC')::date AS day, organization_id, user_id, endpoint, agent_type,
           tool_name, count(*) AS request_count
    FROM analytics_events
    WHERE event_time >= %(range_start)s AND event_time < %(range_end)s
      AND (endpoint IS NOT NULL OR agent_type IS NOT NULL OR tool_name IS NOT NULL)
    GROUP BY 1, 2, 3, 4, 5, 6
)
INSERT INTO analytics_org_feature_usage_daily (day, feature_kind, feature, organization_id, request_count, users)
SELECT u.day, f.feature_kind, f.feature, u.organization_id, sum(u.request_count), count(DISTINCT u.user_id)
FROM uses AS u
CROSS JOIN LATERAL (VALUES ('endpoint', u.endpoint), ('agent_type', u.agent_type), ('tool', u.tool_name))
    AS f (feature_kind, feature)
WHERE f.feature IS NOT NULL
GROUP BY u.day, f.feature_kind, f.feature, u.organization_id
