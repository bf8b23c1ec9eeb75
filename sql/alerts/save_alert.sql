-- One alert's state after an evaluation (the whole row: the lifecycle is decided in Python).
INSERT INTO analytics_alerts (dedup_key, rule, severity, status, subject, summary, details, first_seen_at,
                              last_seen_at, fired_at, last_notified_at, clear_since, acknowledged_at,
                              acknowledged_by, resolved_at, updated_at)
VALUES (%(dedup_key)s, %(rule)s, %(severity)s, %(status)s, %(subject)s, %(summary)s,
        coalesce(%(details)s, jsonb_build_object()), %(first_seen_at)s,
        coalesce(%(last_seen_at)s, %(now)s), %(fired_at)s, %(last_notified_at)s, %(clear_since)s, NULL, NULL, %(resolved_at)s, %(now)s)
ON CONFLICT (dedup_key) DO UPDATE SET
    rule = excluded.rule, severity = excluded.severity, status = excluded.status, subject = excluded.subject,
    summary = excluded.summary,
    details = coalesce(%(details)s, analytics_alerts.details), first_seen_at = excluded.first_seen_at,
    last_seen_at = coalesce(%(last_seen_at)s, analytics_alerts.last_seen_at), fired_at = excluded.fired_at,
    last_notified_at = excluded.last_notified_at,
    clear_since = excluded.clear_since, resolved_at = excluded.resolved_at, updated_at = excluded.updated_at,
    -- A new firing starts unacknowledged; an acknowledgement lasts while the alert stays open.
    acknowledged_at = CASE WHEN excluded.status IN ('pending', 'firing') AND analytics_alerts.status = 'resolved'
                           THEN NULL ELSE analytics_alerts.acknowledged_at END,
    acknowledged_by = CASE WHEN excluded.status IN ('pending', 'firing') AND analytics_alerts.status = 'resolved'
                           THEN NULL ELSE analytics_alerts.acknowledged_by END
