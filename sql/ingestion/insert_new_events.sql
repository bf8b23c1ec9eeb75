-- Claim each (organization_id, request_id) for its first line; only lines whose claim
-- succeeded become events. Claim and event commit together, so a retry after a crash
-- never finds a claimed id without its event.
WITH claimed AS (
    INSERT INTO analytics_event_keys
        (event_key, organization_id, request_id, content_hash, event_time, object_id, line_number)
    SELECT analytics_event_key(organization_id, request_id), organization_id, request_id, content_hash,
           event_time, %(object_id)s, line_number
    FROM incoming_lines
    WHERE reason IS NULL
    ORDER BY line_number
    ON CONFLICT (event_key) DO NOTHING
    RETURNING line_number
), inserted AS (
    INSERT INTO analytics_events (
        event_time, organization_id, request_id, endpoint, method, status_code, duration_ms,
        tokens_consumed, tokens_input, tokens_output, model_id, event_type, agent_type, tool_name,
        queue_wait_ms, session_id, level, message, attributes, content_hash, object_id)
    SELECT
        i.event_time, i.organization_id, i.request_id, i.endpoint, i.method, i.status_code, i.duration_ms,
        i.tokens_consumed, i.tokens_input, i.tokens_output, i.model_id, i.event_type, i.agent_type, i.tool_name,
        i.queue_wait_ms, i.session_id, i.level, i.message, i.attributes, i.content_hash, %(object_id)s
    FROM incoming_lines AS i
    JOIN claimed USING (line_number)
    RETURNING event_time
)
SELECT
    count(*) AS accepted,
    count(*) FILTER (WHERE event_time < %(delivery_hour)s) AS late_events,
    min(event_time) AS min_event_time,
    max(event_time) AS max_event_time,
    coalesce(array_agg(DISTINCT date_trunc('hour', event_time)) FILTER (WHERE event_time IS NOT NULL), '{}') AS event_hours
FROM inserted
