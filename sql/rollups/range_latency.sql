-- One organization's true latency percentiles over [range_start, range_end), every model together: the
-- latency sketches of its daily rollup rows for the whole days of [days_start, days_end), and of its hourly
-- rows for the hours before and after them, merged (counts added per bucket) and read with percentile_cont's
-- definition (analytics_latency_percentiles; within 1 percent of the exact answer, rollups/latency.py).
-- Never the raw events. Returns the requests the percentiles rest on and p50/p95/p99.
-- A whole day whose daily row (day, model) is not there yet (its daily rollup has not run) is merged from
-- its hourly rows instead, so the answer rests on every rolled-up request of the range. A (day, model) is matched
-- on coalesce(model_id, '') and model_id IS NULL, the groups of GROUP BY model_id.
WITH
day_rows AS (
    SELECT bucket_start, coalesce(model_id, '') AS model_key, model_id IS NULL AS model_less,
           latency_sketch_keys, latency_sketch_counts
    FROM analytics_daily_rollups
    WHERE organization_id = %(organization_id)s
      AND bucket_start >= %(days_start)s AND bucket_start < %(days_end)s
),
sketch_rows AS (
    SELECT latency_sketch_keys, latency_sketch_counts
    FROM day_rows
    UNION ALL
    SELECT h.latency_sketch_keys, h.latency_sketch_counts
    FROM analytics_hourly_rollups AS h
    WHERE h.organization_id = %(organization_id)s
      AND h.bucket_start >= %(range_start)s AND h.bucket_start < %(range_end)s
      AND NOT (h.bucket_start >= %(days_start)s AND h.bucket_start < %(days_end)s
               AND EXISTS (SELECT FROM day_rows AS d
                           WHERE d.bucket_start = date_bin('1 day', h.bucket_start, TIMESTAMPTZ '2000-01-01 00:00:00+00')
                             AND d.model_key = coalesce(h.model_id, '') AND d.model_less = (h.model_id IS NULL)))
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
