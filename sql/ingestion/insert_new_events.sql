-- Claim each (organization_id, request_id) of the staged group for its first line (in the order
-- the objects were given, then line order) and insert the claiming lines as events; one row of figures per object back.
-- The key is staged with each line (the loader computes analytics_event_key(organization_id,
-- request_id) as it validates), so this statement does not hash a key per line.
-- Claim and event commit together, so a retry after a crash never finds a claimed id without
-- its event.
--
-- Keys already claimed are skipped by an anti-join and the rest go in with a plain INSERT: per
-- row that costs about two thirds of ON CONFLICT DO NOTHING's speculative insertion
-- (benchmarks/ingest.py). Keys are inserted in key order, so two loaders claiming overlapping
-- keys wait on each other instead of deadlocking. A key a concurrent loader commits after this
-- statement's snapshot makes it fail with a unique violation; the loader then rolls back to a
-- savepoint and runs this statement again with {on_conflict} = ON CONFLICT (event_key) DO NOTHING,
-- which waits for that loader and skips its keys (their lines become repeats); the first time
-- {on_conflict} is empty. The loader fills it in; no value ever goes there. The event's columns
-- come from its field table (ingestion/contract.py), each staged value cast to its column's type.
--
-- Valid lines that claimed nothing (repeats) go to incoming_repeats, to be told apart as
-- duplicates or conflicting duplicates; the one-time filter skips that scan when every valid
-- line was claimed. Staging has no statistics, so its row estimates are tiny: NOT IN over
-- claimed becomes one hashed subplan (NOT EXISTS would be a nested loop, quadratic), and the
-- join to claimed hashes claimed and scans staging in COPY order, which keeps the events in
-- delivery order (roughly event time: tight BRIN ranges) without a sort.
WITH objects AS (
    SELECT * FROM unnest(%(object_ids)s::bigint[], %(delivery_hours)s::timestamptz[]) AS o (object_id, delivery_hour)
), firsts AS (
    SELECT DISTINCT ON (event_key)
           event_key, organization_id, request_id, content_hash, event_time, object_id, line_number
    FROM incoming_lines
    WHERE reason IS NULL
    ORDER BY event_key, object_order, line_number
), claimed AS (
    INSERT INTO analytics_event_keys
        (event_key, organization_id, request_id, content_hash, event_time, object_id, line_number)
    SELECT f.event_key, f.organization_id, f.request_id, f.content_hash, f.event_time, f.object_id, f.line_number
    FROM firsts AS f
    WHERE NOT EXISTS (SELECT FROM analytics_event_keys AS k WHERE k.event_key = f.event_key)
    ORDER BY f.event_key
    {on_conflict}
    RETURNING object_id, line_number
), inserted AS (
    INSERT INTO analytics_events ({event_columns}, object_id)
    SELECT {staged_event_values}, i.object_id
    FROM incoming_lines AS i
    JOIN claimed AS c ON c.object_id = i.object_id AND c.line_number = i.line_number
    RETURNING object_id, event_time
), per_hour AS (
    -- One pass over the inserted events gives both the ledger per event hour and each object's
    -- figures (a second pass, sorting the events for their distinct hours, cost more).
    SELECT e.object_id,
           date_bin('1 hour', e.event_time, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS event_hour,
           count(*) AS events,
           count(*) FILTER (WHERE e.event_time < o.delivery_hour) AS late_events,
           min(e.event_time) AS min_event_time,
           max(e.event_time) AS max_event_time
    FROM inserted AS e
    JOIN objects AS o ON o.object_id = e.object_id
    GROUP BY 1, 2
), event_hours AS (
    -- The ledger per event hour: what the restatement sensor compares with the hourly rollups.
    INSERT INTO analytics_ingested_event_hours (event_hour, object_id, events)
    SELECT event_hour, object_id, events
    FROM per_hour
), repeats AS (
    INSERT INTO incoming_repeats (object_id, line_number, organization_id, request_id, content_hash)
    SELECT i.object_id, i.line_number, i.organization_id, i.request_id, i.content_hash
    FROM incoming_lines AS i
    WHERE %(valid_lines)s > (SELECT count(*) FROM claimed)
      AND i.reason IS NULL
      AND (i.object_id, i.line_number) NOT IN (SELECT c.object_id, c.line_number FROM claimed AS c)
)
SELECT
    object_id,
    sum(events)::bigint AS accepted,
    sum(late_events)::bigint AS late_events,
    min(min_event_time) AS min_event_time,
    max(max_event_time) AS max_event_time,
    array_agg(event_hour ORDER BY event_hour) AS event_hours
FROM per_hour
GROUP BY object_id
