-- One platform row per day of [first_day, end_day), days without any event included; the counts are filled by
-- refresh_trailing_activity*.sql and refresh_customer_activity.sql (same transaction).
INSERT INTO analytics_customer_activity_daily (
    day, active_customers, new_customers, returning_customers, reactivated_customers, churned_customers,
    month_active_customers, month_new_customers, month_returning_customers, month_churned_customers,
    request_count, dau, wau, mau, churn_inactive_days)
SELECT d.day::date, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, %(churn_days)s
FROM generate_series(%(first_day)s::date, %(end_day)s::date - 1, interval '1 day') AS d (day)
