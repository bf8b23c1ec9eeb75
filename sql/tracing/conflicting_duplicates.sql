-- Later lines with the same (organization_id, request_id) and other content: quarantined as
-- conflicting_duplicate, with the line they repeat in their detail. (Repeats with equal content are counted
-- per object, analytics_ingested_objects.duplicates, not kept per line.)
SELECT q.object_key, q.line_number, q.detail, q.raw_text, q.quarantined_at, o.source, o.delivery_hour
FROM analytics_quarantine AS q
JOIN analytics_ingested_objects AS o ON o.object_id = q.object_id
WHERE q.reason = 'conflicting_duplicate'
  AND starts_with(q.detail, 'request_id ' || %(request_id)s || ' of ' || %(organization_id)s || ' was first')
ORDER BY q.quarantine_id
