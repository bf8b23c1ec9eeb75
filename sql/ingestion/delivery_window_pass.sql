-- One pass over the events of the objects delivered in the window (delivery_hour_checks): how
-- many there are, how many belong to the objects the ledger comparison covers (within their
-- event-time range, as the ledger counts them), and {rule_counts}: each contract rule's
-- unexpected rows. Aggregates only, so PostgreSQL can run it on parallel workers.
SELECT count(*) AS rows_checked,
       count(*) FILTER (WHERE object_id = ANY (%(compared_ids)s::bigint[])
                          AND event_time >= %(compared_from)s AND event_time <= %(compared_to)s) AS stored_compared
       {rule_counts}
FROM ({window}) AS window_events
