-- One notification to one receiver, due at once; the dispatcher sends it (analytics_pipeline.alerts.outbox).
INSERT INTO analytics_alert_outbox (history_id, route, dedup_key, action, payload, created_at, next_attempt_at)
VALUES (%(history_id)s, %(route)s, %(dedup_key)s, %(action)s, %(payload)s, %(now)s, %(now)s)
