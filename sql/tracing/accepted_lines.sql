-- The line that claimed (organization_id, request_id) for each organization asked, with its source in the
-- ingestion ledger: its event key is the index probe.
SELECT k.organization_id, k.request_id, k.event_time, k.line_number, k.content_hash,
       o.object_id, o.source, o.object_key, o.etag, o.delivery_hour, o.ingested_at, o.run_id
FROM unnest(%(organization_ids)s::text[]) AS asked (organization_id)
JOIN analytics_event_keys AS k ON k.event_key = analytics_event_key(asked.organization_id, %(request_id)s)
JOIN analytics_ingested_objects AS o ON o.object_id = k.object_id
ORDER BY k.organization_id
