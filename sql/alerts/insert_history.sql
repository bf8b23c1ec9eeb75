-- One transition or notification of an alert, kept for good.
INSERT INTO analytics_alert_history (dedup_key, rule, severity, event, summary, details, at)
VALUES (%(dedup_key)s, %(rule)s, %(severity)s, %(event)s, %(summary)s, %(details)s, %(at)s)
RETURNING history_id
