-- The days among %(days)s whose daily metrics lag their daily rollups: the rollups of the day were
-- computed after the oldest of the day's metrics (the platform activity row, the health scores and
-- the forecasts), or the day has rollups and no activity row yet. A backfill that computed the
-- metrics after the rollups leaves nothing stale; a restatement (new events, a new price catalog)
-- makes the day stale again. Every table is read by index on the day.
WITH days AS (
    SELECT DISTINCT unnest(%(days)s::date[]) AS day
), rolled AS (
    SELECT (bucket_start AT TIME ZONE 'UTC')::date AS day, max(computed_at) AS computed_at
    FROM analytics_daily_rollups
    WHERE bucket_start = ANY (SELECT day::timestamp AT TIME ZONE 'UTC' FROM days)
    GROUP BY 1
), measured AS (
    SELECT d.day,
           (SELECT computed_at FROM analytics_customer_activity_daily AS a WHERE a.day = d.day) AS activity_at,
           (SELECT min(computed_at) FROM analytics_customer_health_daily AS h WHERE h.day = d.day) AS health_at,
           (SELECT min(computed_at) FROM analytics_usage_forecasts AS f WHERE f.as_of = d.day) AS forecast_at
    FROM days AS d
)
SELECT r.day
FROM rolled AS r
JOIN measured AS m USING (day)
WHERE m.activity_at IS NULL OR r.computed_at > least(m.activity_at, m.health_at, m.forecast_at)
ORDER BY r.day
