-- Valid lines of the group whose (organization_id, request_id) was not claimed by them (another
-- line claimed it, in this group or before): duplicates or conflicting duplicates. Usually few.
CREATE TEMP TABLE IF NOT EXISTS incoming_repeats (
    object_id        bigint NOT NULL,
    line_number      bigint NOT NULL,
    organization_id  text   NOT NULL,
    request_id       text   NOT NULL,
    content_hash     text   NOT NULL
) ON COMMIT DELETE ROWS
