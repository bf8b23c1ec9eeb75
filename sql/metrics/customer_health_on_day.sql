-- The health scores of one day, the least healthy first.
SELECT organization_id, score, band, churn_signal, churn_reason, requests_last_7_days, days_since_active
FROM analytics_customer_health_daily
WHERE day = %(day)s
ORDER BY score, organization_id
