-- One pass over the events of the objects delivered in the window (delivery_hour_checks), per
-- object: how many events it has, how many of them lie in the event-time range the ledger
-- comparison covers, and {rule_counts}: each contract rule's unexpected rows. Aggregates by
-- object (a few thousand groups at most), so PostgreSQL can run it on parallel workers; the
-- caller adds them up, keeping for the ledger only the objects it compares.
SELECT object_id,
       count(*) AS events,
       count(*) FILTER (WHERE event_time >= %(compared_from)s AND event_time <= %(compared_to)s) AS in_compared_range
       {rule_counts}
FROM ({window}) AS window_events
GROUP BY object_id
