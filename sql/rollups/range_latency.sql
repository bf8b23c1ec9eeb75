-- One organization's true latency percentiles over [range_start, range_end), every model together: the
-- latency sketches of its daily rollup rows for the whole days of [days_start, days_end), and of its hourly
-- rows for the hours before and after them, merged (counts added per bucket) and read with percentile_cont's
-- definition (analytics_latency_percentiles; within 1 percent of the exact answer, rollups/latency.py).
-- Never the raw events. Returns the requests the percentiles rest on and p50/p95/p99.
-- A whole day without daily rows for the organization (its daily rollup has not run yet; the rollup writes
-- a day whole, every model at once) is merged from its hourly rows instead, so the answer rests on every
-- rolled-up request of the range. The days are UTC midnights, so they step by 24 hours.
WITH
days_without_daily_rows AS (
    SELECT day
    FROM generate_series(%(days_start)s::timestamptz, %(days_end)s::timestamptz - interval '24 hours',
                         interval '24 hours') AS day
    WHERE NOT EXISTS (SELECT FROM analytics_daily_rollups AS d
                      WHERE d.organization_id = %(organization_id)s AND d.bucket_start = day)
),
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
    UNION ALL
    SELECT h.latency_sketch_keys, h.latency_sketch_counts
    FROM days_without_daily_rows AS m
    JOIN analytics_hourly_rollups AS h
      ON h.organization_id = %(organization_id)s
     AND h.bucket_start >= m.day AND h.bucket_start < m.day + interval '24 hours'
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
