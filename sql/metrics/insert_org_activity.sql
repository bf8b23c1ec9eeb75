-- Each organization's days of [range_start, range_end) (the caller runs it a day at a time): requests, tokens and errors exactly as the rollups count
-- them (every event, with or without a user), the day's p95 latency, and its active users (DAU) from
-- analytics_user_activity_daily (filled first, same transaction). WAU, MAU and the lifecycle follow in
-- refresh_trailing_activity.sql and refresh_lifecycle.sql.
WITH events AS (
    SELECT (event_time AT TIME ZONE 'UTC')::date AS day,
           organization_id,
           count(*) AS request_count,
           sum(coalesce(tokens_input, CASE WHEN tokens_output IS NULL THEN tokens_consumed END, 0)
               + coalesce(tokens_output, 0)) AS tokens_total,
           count(*) FILTER (WHERE status_code >= 400) AS error_count,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS latency_p95_ms
    FROM analytics_events
    WHERE event_time >= %(range_start)s AND event_time < %(range_end)s
    GROUP BY 1, 2
), users AS (
    SELECT day, organization_id, count(*) AS active_users
    FROM analytics_user_activity_daily
    WHERE day >= (%(range_start)s::timestamptz AT TIME ZONE 'UTC')::date
      AND day <= ((%(range_end)s::timestamptz - interval '1 microsecond') AT TIME ZONE 'UTC')::date
    GROUP BY 1, 2
)
INSERT INTO analytics_org_activity_daily (day, organization_id, request_count, tokens_total, error_count,
                                          latency_p95_ms, active_users)
SELECT e.day, e.organization_id, e.request_count, e.tokens_total, e.error_count, e.latency_p95_ms,
       coalesce(u.active_users, 0)
FROM events AS e
LEFT JOIN users AS u ON u.day = e.day AND u.organization_id = e.organization_id
