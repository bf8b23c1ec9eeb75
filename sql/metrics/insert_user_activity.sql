-- Each end user's requests, errors and tokens per UTC day of [range_start, range_end), from the raw events
-- (events without a user_id make no user). Tokens as the rollups count them: tokens_consumed alone is input.
INSERT INTO analytics_user_activity_daily (day, organization_id, user_id, request_count, error_count, tokens_total)
SELECT (event_time AT TIME ZONE 'UTC')::date,
       organization_id,
       user_id,
       count(*),
       count(*) FILTER (WHERE status_code >= 400),
       sum(coalesce(tokens_input, CASE WHEN tokens_output IS NULL THEN tokens_consumed END, 0)
           + coalesce(tokens_output, 0))
FROM analytics_events
WHERE event_time >= %(range_start)s AND event_time < %(range_end)s AND user_id IS NOT NULL
GROUP BY 1, 2, 3
