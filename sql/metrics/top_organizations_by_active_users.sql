-- The organizations with the most active users on a day: DAU, WAU, MAU, stickiness, requests and lifecycle.
SELECT organization_id, active_users, wau, mau, stickiness, request_count, lifecycle
FROM analytics_org_activity_daily
WHERE day = %(day)s
ORDER BY active_users DESC, request_count DESC, organization_id
LIMIT %(limit)s
