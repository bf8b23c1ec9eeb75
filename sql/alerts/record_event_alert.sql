-- A failed run or check, fired as it is recorded; nothing (no row returned) if its dedup key is stored already,
-- so a sensor tick evaluated twice records nothing twice.
INSERT INTO analytics_alerts (dedup_key, rule, severity, status, subject, summary, details, first_seen_at,
                              last_seen_at, fired_at, last_notified_at, updated_at)
VALUES (%(dedup_key)s, %(rule)s, %(severity)s, %(status)s, %(subject)s, %(summary)s, %(details)s, %(now)s,
        %(now)s, %(now)s, %(now)s, %(now)s)
ON CONFLICT (dedup_key) DO NOTHING
RETURNING dedup_key
