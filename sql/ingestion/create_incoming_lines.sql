-- Staging for the lines of a group of objects inside their ingest transaction: every line read
-- lands here once (valid events with reason NULL, pre-rejected lines with their reason and raw
-- text), tagged with its object's ledger id and its object's place in the group (the order in
-- which the objects were given, which decides the first of two lines with the same key).
-- Filled by COPY (FORMAT BINARY); attributes stay JSON text until the insert into
-- analytics_events. Created once per connection; emptied at each commit.
-- The columns are the loader's staging columns (ingestion/loader.py), the event's from its field
-- table (ingestion/contract.py EVENT_FIELDS), filled in as identifiers and type names.
CREATE TEMP TABLE IF NOT EXISTS incoming_lines (
    {columns}
) ON COMMIT DELETE ROWS
