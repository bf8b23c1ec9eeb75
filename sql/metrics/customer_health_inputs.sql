-- The inputs of each organization's health score on each day of [first_day, end_day): every organization
-- active in the 35 days through the day (the last 7 days and the 28 before them), from the activity rows.
--   requests_last_7 / requests_prior_7 / requests_prior_28: days d-6..d / d-13..d-7 / d-34..d-7
--   latency_p95_last_7: the request-weighted mean of its daily p95s over d-6..d; platform_p95_last_7: the same
--   over every organization's daily p95s (like with like); first_active_day: its first active day ever (the
--   periods start there for a young one).
WITH days AS (
    SELECT d::date AS day FROM generate_series(%(first_day)s::date, %(end_day)s::date - 1, interval '1 day') AS d
), window_rows AS (
    SELECT d.day, a.organization_id, a.day AS active_day, a.request_count, a.error_count, a.latency_p95_ms
    FROM days AS d
    JOIN analytics_org_activity_daily AS a ON a.day > d.day - 35 AND a.day <= d.day
), per_organization AS (
    SELECT day, organization_id,
           coalesce(sum(request_count) FILTER (WHERE active_day > day - 7), 0)::bigint AS requests_last_7,
           coalesce(sum(request_count) FILTER (WHERE active_day > day - 14 AND active_day <= day - 7), 0)::bigint
               AS requests_prior_7,
           coalesce(sum(request_count) FILTER (WHERE active_day <= day - 7), 0)::bigint AS requests_prior_28,
           coalesce(sum(error_count) FILTER (WHERE active_day > day - 7), 0)::bigint AS errors_last_7,
           sum(latency_p95_ms * request_count) FILTER (WHERE active_day > day - 7 AND latency_p95_ms IS NOT NULL)
               / nullif(sum(request_count) FILTER (WHERE active_day > day - 7 AND latency_p95_ms IS NOT NULL), 0)
               AS latency_p95_last_7,
           max(active_day) AS last_active_day
    FROM window_rows
    GROUP BY day, organization_id
), platform AS (
    SELECT d.day,
           sum(a.latency_p95_ms * a.request_count) / nullif(sum(a.request_count), 0) AS platform_p95_last_7
    FROM days AS d
    JOIN analytics_org_activity_daily AS a ON a.day > d.day - 7 AND a.day <= d.day
    WHERE a.latency_p95_ms IS NOT NULL
    GROUP BY d.day
)
SELECT p.day, p.organization_id, p.requests_last_7, p.requests_prior_7, p.requests_prior_28, p.errors_last_7,
       p.latency_p95_last_7, pl.platform_p95_last_7, p.last_active_day,
       (SELECT min(f.day) FROM analytics_org_activity_daily AS f WHERE f.organization_id = p.organization_id)
           AS first_active_day
FROM per_organization AS p
LEFT JOIN platform AS pl ON pl.day = p.day
ORDER BY p.day, p.organization_id
