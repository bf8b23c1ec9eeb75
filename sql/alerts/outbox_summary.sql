-- Deliveries by receiver: delivered, waiting (to be retried), given up.
SELECT route, count(*) FILTER (WHERE delivered_at IS NOT NULL),
       count(*) FILTER (WHERE delivered_at IS NULL AND given_up_at IS NULL),
       count(*) FILTER (WHERE given_up_at IS NOT NULL)
FROM analytics_alert_outbox
GROUP BY route ORDER BY route
