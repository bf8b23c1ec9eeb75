-- Events stored for the objects delivered in each hour of [range_start, range_end), by the ledger:
-- the row count of each raw_usage_events partition (a partition is a delivery hour).
SELECT delivery_hour, coalesce(sum(accepted), 0)::bigint AS accepted
FROM analytics_ingested_objects
WHERE source = %(source)s AND delivery_hour >= %(range_start)s AND delivery_hour < %(range_end)s
GROUP BY delivery_hour
