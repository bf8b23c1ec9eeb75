-- Organization days of [first_day, end_day) where the activity's requests or tokens differ from the daily
-- rollups (the sums over models), or that only one of the two has; at most 20.
WITH rollups AS (
    SELECT (bucket_start AT TIME ZONE 'UTC')::date AS day, organization_id,
           sum(request_count)::bigint AS request_count, sum(tokens_total)::bigint AS tokens_total
    FROM analytics_daily_rollups
    WHERE bucket_start >= (%(first_day)s::date)::timestamp AT TIME ZONE 'UTC'
      AND bucket_start <  (%(end_day)s::date)::timestamp AT TIME ZONE 'UTC'
    GROUP BY 1, 2
), activity AS (
    SELECT day, organization_id, request_count, tokens_total
    FROM analytics_org_activity_daily
    WHERE day >= %(first_day)s AND day < %(end_day)s
)
SELECT coalesce(r.day, a.day) AS day, coalesce(r.organization_id, a.organization_id) AS organization_id,
       r.request_count AS rollup_requests, a.request_count AS activity_requests,
       r.tokens_total AS rollup_tokens, a.tokens_total AS activity_tokens
FROM rollups AS r
FULL JOIN activity AS a ON a.day = r.day AND a.organization_id = r.organization_id
WHERE r.request_count IS DISTINCT FROM a.request_count OR r.tokens_total IS DISTINCT FROM a.tokens_total
ORDER BY 1, 2
LIMIT 20
