-- Staging for one object's lines inside its ingest transaction: every line read lands here
-- once (valid events with reason NULL, pre-rejected lines with their reason and raw text).
-- Created once per connection; emptied at each commit, so its statements stay prepared.
CREATE TEMP TABLE IF NOT EXISTS incoming_lines (
    line_number      bigint NOT NULL,
    reason           text,
    detail           text,
    raw_text         text,
    raw_sha256       text,
    raw_size_bytes   bigint,
    event_time       timestamptz,
    organization_id  text,
    request_id       text,
    endpoint         text,
    method           text,
    status_code      smallint,
    duration_ms      double precision,
    tokens_consumed  bigint,
    tokens_input     bigint,
    tokens_output    bigint,
    model_id         text,
    event_type       text,
    agent_type       text,
    tool_name        text,
    queue_wait_ms    double precision,
    session_id       text,
    level            text,
    message          text,
    attributes       jsonb,
    content_hash     text
) ON COMMIT DELETE ROWS
