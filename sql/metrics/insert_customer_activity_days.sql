-- One platform row per day of [first_day, end_day), days without any event included, with the p95 latency of
-- every event of the day; the counts are filled by refresh_customer_activity.sql (same transaction).
INSERT INTO analytics_customer_activity_daily (
    day, active_customers, new_customers, returning_customers, reactivated_customers, churned_customers,
    month_active_customers, month_new_customers, month_returning_customers, month_churned_customers,
    request_count, dau, wau, mau, latency_p95_ms, churn_inactive_days)
SELECT d.day::date, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, l.latency_p95_ms, %(churn_days)s
FROM generate_series(%(first_day)s::date, %(end_day)s::date - 1, interval '1 day') AS d (day)
LEFT JOIN (
    SELECT (event_time AT TIME ZONE 'UTC')::date AS day,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS latency_p95_ms
    FROM analytics_events
    WHERE event_time >= %(range_start)s AND event_time < %(range_end)s
    GROUP BY 1
) AS l ON l.day = d.day::date
