-- Acknowledge a firing alert: no more re-notifications while it lasts (its resolve is still sent).
UPDATE analytics_alerts
SET status = 'acknowledged', acknowledged_at = %(now)s, acknowledged_by = %(by)s, updated_at = %(now)s
WHERE dedup_key = %(dedup_key)s AND status = 'firing'
RETURNING rule, severity, summary
