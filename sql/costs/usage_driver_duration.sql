-- Allocation driver "duration": each tenant's requests and summed request duration (ms) per UTC day,
-- from the raw events (the rollups keep latency percentiles, not sums).
SELECT (event_time AT TIME ZONE 'UTC')::date AS usage_date,
       organization_id,
       count(*) AS request_count,
       coalesce(sum(duration_ms), 0)::numeric AS driver_value
FROM analytics_events
WHERE event_time >= %(range_start)s AND event_time < %(range_end)s
GROUP BY 1, 2
