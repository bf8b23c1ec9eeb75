-- One organization's true latency percentiles over [range_start, range_end), every model together: the
-- latency sketches of its daily rollup rows for the whole days of [days_start, days_end), and of its hourly
-- rows for the hours before and after them, merged (counts added per bucket) and read with percentile_cont's
-- definition (analytics_latency_percentiles; within 1 percent of the exact answer, rollups/latency.py).
-- Never the raw events. Returns the requests the percentiles rest on and p50/p95/p99.
WITH
sketch_rows AS (
    SELECT latency_sketch_keys, latency_sketch_counts
    FROM analytics_daily_rollups
    WHERE organization_id = %(organization_id)s
      AND bucket_start >= %(days_start)s AND bucket_start < %(days_end)s
    UNION ALL
    SELECT latency_sketch_keys, latency_sketch_counts
    FROM analytics_hourly_rollups
    WHERE organization_id = %(organization_id)s
      AND (bucket_start >= %(range_start)s AND bucket_start < %(days_start)s
           OR bucket_start >= %(days_end)s AND bucket_start < %(range_end)s)
),
merged AS (
    SELECT b.latency_key, sum(b.request_count)::bigint AS request_count
    FROM sketch_rows AS r
    CROSS JOIN LATERAL unnest(r.latency_sketch_keys, r.latency_sketch_counts) AS b(latency_key, request_count)
    GROUP BY b.latency_key
)
SELECT coalesce(sum(request_count), 0)::bigint,
       analytics_latency_percentiles(array_agg(latency_key), array_agg(request_count),
                                     ARRAY[0.50, 0.95, 0.99]::double precision[])
FROM merged
