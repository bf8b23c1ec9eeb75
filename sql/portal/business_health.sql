-- Every organization's health on the last day on or before %(last_day)s that has scores (from %(first_day)s):
-- the 0-100 score, its band, the churn signal and what drove them (metrics.health.HealthScore's columns),
-- least healthy first.
WITH latest AS (
    SELECT max(day) AS day FROM analytics_customer_health_daily WHERE day >= %(first_day)s AND day <= %(last_day)s
)
SELECT h.day, h.organization_id, h.score, h.band, h.churn_signal, h.churn_reason, h.usage_trend_ratio,
       h.week_over_week_ratio, h.error_rate, h.latency_ratio, h.budget_burn, h.days_since_active, h.trend_score,
       h.error_score, h.latency_score, h.recency_score, h.budget_score, h.requests_last_7_days
FROM analytics_customer_health_daily AS h
JOIN latest ON h.day = latest.day
ORDER BY h.score, h.organization_id
