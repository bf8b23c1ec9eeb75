-- The SRE page: every organization together, per endpoint over [range_start, range_end): requests, status
-- classes, rate limiting; the range's true latency percentiles, its hours' latency sketches merged (counts
-- added per bucket, read with percentile_cont's definition, within 1 percent of exact: rollups/latency.py) with
-- the requests they rest on; and the highest hour's exact queue-wait percentiles (queue waits keep no sketch).
-- The busiest endpoint first.
WITH
hours AS (
    SELECT *
    FROM analytics_endpoint_hourly_metrics
    WHERE organization_id IS NULL
      AND bucket_start >= %(range_start)s AND bucket_start < %(range_end)s
),
merged AS (
    SELECT h.endpoint, b.latency_key, sum(b.request_count)::bigint AS request_count
    FROM hours AS h
    CROSS JOIN LATERAL unnest(h.latency_sketch_keys, h.latency_sketch_counts) AS b(latency_key, request_count)
    GROUP BY 1, 2
),
latency AS (
    SELECT endpoint, sum(request_count)::bigint AS latency_request_count,
           analytics_latency_percentiles(array_agg(latency_key), array_agg(request_count),
                                         ARRAY[0.50, 0.95, 0.99]::double precision[]) AS percentiles
    FROM merged
    GROUP BY endpoint
)
SELECT h.endpoint,
       sum(h.request_count)::bigint AS request_count,
       sum(h.status_4xx)::bigint AS status_4xx,
       sum(h.status_5xx)::bigint AS status_5xx,
       sum(h.rate_limited_count)::bigint AS rate_limited_count,
       coalesce(max(l.latency_request_count), 0)::bigint AS latency_request_count,
       max(l.percentiles[1]) AS latency_p50_ms,
       max(l.percentiles[2]) AS latency_p95_ms,
       max(l.percentiles[3]) AS latency_p99_ms,
       max(h.queue_wait_p50_ms) AS queue_wait_p50_ms,
       max(h.queue_wait_p95_ms) AS queue_wait_p95_ms,
       max(h.queue_wait_p99_ms) AS queue_wait_p99_ms
FROM hours AS h
LEFT JOIN latency AS l ON l.endpoint = h.endpoint
GROUP BY h.endpoint
ORDER BY sum(h.request_count) DESC, h.endpoint
