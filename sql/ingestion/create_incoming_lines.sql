-- Staging for the lines of a group of objects inside their ingest transaction: every line read
-- lands here once (valid events with reason NULL, pre-rejected lines with their reason and raw
-- text), tagged with its object's ledger id and its object's place in the group (the order in
-- which the objects were given, which decides the first of two lines with the same key).
-- Filled by COPY (FORMAT BINARY); attributes stay JSON text until the insert into
-- analytics_events. Created once per connection; emptied at each commit.
CREATE TEMP TABLE IF NOT EXISTS incoming_lines (
    object_id        bigint NOT NULL,
    object_order     integer NOT NULL,
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
    user_id          text,
    error_type       text,
    attributes       text,
    content_hash     text
) ON COMMIT DELETE ROWS
