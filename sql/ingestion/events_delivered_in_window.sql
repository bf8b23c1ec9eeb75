-- The events of the objects delivered in [range_start, range_end), as a Great Expectations query
-- asset (analytics_pipeline.ingestion.expectations), with columns derived for contract rules that
-- GX cannot state on the stored columns. GX query assets take SQL text and no bind parameters, so
-- for GX every placeholder in braces is a psycopg sql.Literal rendering of a value checked by type
-- first (a fixed source name, timezone-aware datetimes), never of user text; the one-query form
-- of the same rules (check_raw_events_in_sql) fills them with bound parameters.
-- Events are found through their objects (delivery hour) within the objects' event-time range
-- [events_from, events_to] (event_time_range_of_delivery_window.sql): as constants, they let the
-- planner prune day partitions and estimate row counts (there is no index on object_id; with the
-- range as subqueries it misestimated GX's uniqueness join into a quadratic merge join). An event
-- stored outside its object's range is not seen here; ingest_ledger_adds_up counts it missing.
SELECT e.object_id,
       e.organization_id,
       e.request_id,
       e.event_time,
       e.status_code,
       e.duration_ms,
       e.queue_wait_ms,
       e.tokens_consumed,
       e.tokens_input,
       e.tokens_output,
       e.user_id,
       e.error_type,
       e.content_hash,
       -- double precision (date_part), not extract's numeric: twice as fast, and exact at these
       -- magnitudes (microseconds within a few years: 14 significant digits of 15).
       date_part('epoch', e.event_time - o.delivery_hour) AS seconds_after_delivery_hour,
       e.event_time = date_trunc('milliseconds', e.event_time) AS event_time_whole_milliseconds,
       jsonb_typeof(e.attributes) AS attributes_json_type
FROM analytics_events AS e
JOIN analytics_ingested_objects AS o ON o.object_id = e.object_id
WHERE o.source = {source} AND o.delivery_hour >= {range_start} AND o.delivery_hour < {range_end}
  AND e.event_time >= {events_from} AND e.event_time <= {events_to}
