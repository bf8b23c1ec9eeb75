-- One organization's latency per endpoint over the days of [range_start, range_end): the endpoint rollups' daily
-- latency sketches merged (counts added per bucket) into the range's true p50/p95/p99 (percentile_cont's
-- definition, within 1 percent of exact: rollups/latency.py), with the requests each rests on.
WITH merged AS (
    SELECT r.endpoint, b.latency_key, sum(b.request_count)::bigint AS request_count
    FROM analytics_endpoint_daily_rollups AS r
    CROSS JOIN LATERAL unnest(r.latency_sketch_keys, r.latency_sketch_counts) AS b(latency_key, request_count)
    WHERE r.organization_id = %(organization_id)s
      AND r.bucket_start >= %(range_start)s AND r.bucket_start < %(range_end)s
    GROUP BY 1, 2
)
SELECT endpoint, sum(request_count)::bigint,
       analytics_latency_percentiles(array_agg(latency_key), array_agg(request_count),
                                     ARRAY[0.50, 0.95, 0.99]::double precision[])
FROM merged
GROUP BY endpoint
ORDER BY endpoint
