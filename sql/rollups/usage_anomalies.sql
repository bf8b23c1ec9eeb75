-- Each organization's usage in each hour of [range_start, range_end), summed over models, beside the
-- mean and sample standard deviation of the same hour of day on the trailing `trailing_days` days.
--
-- A trailing day is history only if the warehouse holds hourly rollups for that hour at all (any
-- organization): an hour that was never loaded says nothing. On a history day, an organization
-- without rows used nothing and counts as 0. The organizations of an hour are those with usage in the
-- hour or on one of its history days, so one that disappears comes back with requests = tokens = 0.
-- Days are 24 hours (not '1 day'), so the comparison is the same UTC hour whatever the session zone.
WITH hours AS (
    SELECT generate_series(%(range_start)s::timestamptz, %(range_end)s::timestamptz - interval '1 hour',
                           interval '1 hour') AS bucket_start
),
usage AS (
    SELECT bucket_start, organization_id, sum(request_count) AS requests, sum(tokens_total) AS tokens
    FROM analytics_hourly_rollups
    WHERE bucket_start >= %(range_start)s::timestamptz - make_interval(hours => 24 * %(trailing_days)s::int)
      AND bucket_start < %(range_end)s::timestamptz
    GROUP BY bucket_start, organization_id
),
loaded_hours AS (
    SELECT DISTINCT bucket_start FROM usage
),
history AS (  -- (hour, the same hour on a trailing day that has data)
    SELECT h.bucket_start, l.bucket_start AS past_start
    FROM hours h
    CROSS JOIN generate_series(1, %(trailing_days)s::int) AS back(days)
    JOIN loaded_hours l ON l.bucket_start = h.bucket_start - make_interval(hours => 24 * back.days)
),
history_days AS (
    SELECT bucket_start, count(*) AS history_days FROM history GROUP BY bucket_start
),
organizations AS (
    SELECT u.bucket_start, u.organization_id FROM usage u JOIN hours h ON h.bucket_start = u.bucket_start
    UNION
    SELECT hi.bucket_start, u.organization_id FROM history hi JOIN usage u ON u.bucket_start = hi.past_start
),
past AS (
    SELECT o.bucket_start, o.organization_id,
           count(u.organization_id) AS days_with_usage,
           avg(coalesce(u.requests, 0)) AS requests_mean,
           coalesce(stddev_samp(coalesce(u.requests, 0)), 0) AS requests_stddev,
           avg(coalesce(u.tokens, 0)) AS tokens_mean,
           coalesce(stddev_samp(coalesce(u.tokens, 0)), 0) AS tokens_stddev
    FROM organizations o
    JOIN history hi ON hi.bucket_start = o.bucket_start
    LEFT JOIN usage u ON u.bucket_start = hi.past_start AND u.organization_id = o.organization_id
    GROUP BY o.bucket_start, o.organization_id
)
SELECT o.bucket_start,
       o.organization_id,
       coalesce(cur.requests, 0)::bigint AS requests,
       coalesce(cur.tokens, 0)::bigint AS tokens,
       coalesce(hd.history_days, 0)::int AS history_days,
       coalesce(p.days_with_usage, 0)::int AS days_with_usage,
       p.requests_mean::float8,
       p.requests_stddev::float8,
       p.tokens_mean::float8,
       p.tokens_stddev::float8
FROM organizations o
LEFT JOIN usage cur ON cur.bucket_start = o.bucket_start AND cur.organization_id = o.organization_id
LEFT JOIN history_days hd ON hd.bucket_start = o.bucket_start
LEFT JOIN past p ON p.bucket_start = o.bucket_start AND p.organization_id = o.organization_id
ORDER BY o.bucket_start, o.organization_id
