-- Every column of one raw-event day, for its Parquet archive (partition pruning reads one
-- partition). The total order makes the same rows give the same file.
SELECT event_time, organization_id, request_id, endpoint, method, status_code, duration_ms,
       tokens_consumed, tokens_input, tokens_output, model_id, event_type, agent_type, tool_name,
       queue_wait_ms, session_id, level, message, attributes::text AS attributes, content_hash, object_id,
       user_id, error_type
FROM analytics_events
WHERE event_time >= %(day_start)s AND event_time < %(day_end)s
ORDER BY event_time, organization_id, request_id
