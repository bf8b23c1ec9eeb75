-- Quarantined lines (other than conflicting duplicates) whose raw text mentions the request id (the caller
-- keeps those whose request_id and organization are the ones asked). A pass over the quarantine, which is
-- small: rejected lines only, kept ANALYTICS_QUARANTINE_RETENTION_DAYS.
SELECT q.object_key, q.line_number, q.reason, q.detail, q.raw_text, q.quarantined_at, o.source, o.delivery_hour
FROM analytics_quarantine AS q
JOIN analytics_ingested_objects AS o ON o.object_id = q.object_id
WHERE q.reason <> 'conflicting_duplicate' AND strpos(q.raw_text, %(request_id)s) > 0
ORDER BY q.quarantine_id
LIMIT 100
